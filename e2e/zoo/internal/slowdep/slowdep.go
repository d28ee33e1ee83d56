// Package slowdep is the slow dependency some zoo controllers call: a stand-in, served on loopback by the
// controller's own process, for the external system (an inventory, a billing API) a real operator talks to. It
// answers every request after a fixed latency, or never, until the context ends.
package slowdep

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Start serves on 127.0.0.1 until ctx ends and returns the base URL. answer decides, per request, how long the
// answer takes; a negative duration is never (the connection stays open, the request unanswered, until ctx ends).
func Start(ctx context.Context, answer func(*http.Request) time.Duration) (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	server := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			delay := answer(r)
			if delay < 0 {
				<-ctx.Done()
				return
			}
			select {
			case <-time.After(delay):
				w.WriteHeader(http.StatusNoContent)
			case <-ctx.Done():
			}
		}),
	}
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	go func() {
		<-ctx.Done()
		// Close (not Shutdown): the calls still waiting get their connection closed, as when the real system goes.
		_ = server.Close()
	}()
	return "http://" + listener.Addr().String(), nil
}
