package kreplay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"
)

const (
	// EnvURL names the recorder's ingest endpoint, e.g. http://127.0.0.1:9477 (the path defaults to /v1/records).
	EnvURL = "KREPLAY_INGEST_URL"
	// EnvToken is the bearer token the recorder requires (its server.token).
	EnvToken = "KREPLAY_INGEST_TOKEN"

	defaultPath          = "/v1/records"
	defaultBufferSize    = 4096
	defaultBatchSize     = 500
	defaultFlushInterval = 200 * time.Millisecond
	maxFlushInterval     = 250 * time.Millisecond
	// Well under the recorder's default 4 MiB body limit; a 413 halves the batch anyway.
	maxBatchBytes  = 1 << 20
	initialBackoff = 100 * time.Millisecond
	maxBackoff     = 5 * time.Second
	maxRetryAfter  = 30 * time.Second
	// Attempts per batch once Close was called and the recorder does not answer.
	closeAttempts = 3
	userAgent     = "kreplay-go-sdk/0.1"
)

// Options configure a Reporter. The zero value reads the endpoint from the environment.
type Options struct {
	// URL of the recorder's ingest endpoint. Default $KREPLAY_INGEST_URL. When both are empty the Reporter is
	// disabled: every method returns at once and the Wrap* helpers return what they were given.
	URL string
	// Token is sent as "Authorization: Bearer <token>". Default $KREPLAY_INGEST_TOKEN.
	Token string
	// BufferSize is how many records wait in memory while the recorder is slow or down; past it new records are
	// dropped and counted (and the count reported in a `dropped` marker once the recorder answers). Default 4096.
	BufferSize int
	// BatchSize is the most records sent in one request. Default 500.
	BatchSize int
	// FlushInterval is the longest a record waits before its batch is sent. Default 200ms, at most 250ms.
	FlushInterval time.Duration
	// HTTPClient overrides the client used to post batches (default: a keep-alive client with a 10s timeout).
	HTTPClient *http.Client
	// Logger receives the reporter's few log lines. Default: controller-runtime's logger named "kreplay".
	Logger logr.Logger
	// DisableReconcileStarts stops WrapReconciler from reporting a `reconcile-start` when each Reconcile begins
	// (one record per call instead of two; hung-reconcile then sees only reconciles that returned). A recorder
	// too old to know them refuses the first one, and the reporter then stops sending them by itself.
	DisableReconcileStarts bool
}

// Stats counts what became of the records reported so far.
type Stats struct {
	// Sent records were accepted by the recorder.
	Sent uint64
	// Dropped records never reached it: the buffer was full, they were reported after Close, or Close's deadline
	// passed before they could be sent.
	Dropped uint64
	// Rejected records were refused by the recorder (4xx) or were invalid (no object name or kind).
	Rejected uint64
}

// pending is a record in the buffer; the sender turns it into its wire form.
type pending interface{ encode() any }

// Reporter sends records to the kreplay recorder in the background. Reporting never blocks and never fails: a
// record is handed to a bounded channel with a non-blocking send, and a single goroutine batches, encodes and
// posts them. A nil or disabled Reporter is valid and does nothing.
type Reporter struct {
	ch       chan pending
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool
	closeMu  sync.Once
	abortCtx context.Context
	abort    context.CancelFunc

	url           string
	token         string
	client        *http.Client
	log           logr.Logger
	batchSize     int
	flushInterval time.Duration

	sent, dropped, rejected atomic.Uint64
	loggedInvalid           atomic.Bool
	// startsOff: starts are not reported (Options.DisableReconcileStarts, or the recorder refused one).
	startsOff atomic.Bool

	// Owned by the flush goroutine.
	buf            bytes.Buffer
	markedDrops    uint64
	markersRefused bool
	outageSince    time.Time
	loggedStatus   map[int]bool
	unreachable    bool // set while closing once the recorder stopped answering
}

// NewReporter starts a Reporter (and its flush goroutine) if an ingest URL is configured, else returns a
// disabled one. Call Close when the manager has stopped to send what is still buffered.
func NewReporter(opts Options) *Reporter {
	log := opts.Logger
	if log.GetSink() == nil {
		log = crlog.Log.WithName("kreplay")
	}
	raw := opts.URL
	if raw == "" {
		raw = os.Getenv(EnvURL)
	}
	if raw == "" {
		// Info, not V(1): a sidecar wired with the wrong variable must say so in the controller's first lines.
		log.Info("kreplay reporting is off: no ingest URL (set "+EnvURL+", e.g. http://127.0.0.1:9477)", "env", EnvURL)
		return &Reporter{}
	}
	endpoint, err := ingestURL(raw)
	if err != nil {
		log.Error(err, "invalid ingest URL: reporting disabled", "env", EnvURL)
		return &Reporter{}
	}
	token := opts.Token
	if token == "" {
		token = os.Getenv(EnvToken)
	}
	r := &Reporter{
		ch:            make(chan pending, positive(opts.BufferSize, defaultBufferSize)),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		url:           endpoint,
		token:         token,
		client:        opts.HTTPClient,
		log:           log,
		batchSize:     positive(opts.BatchSize, defaultBatchSize),
		flushInterval: min(time.Duration(positive(int(opts.FlushInterval), int(defaultFlushInterval))), maxFlushInterval),
		loggedStatus:  map[int]bool{},
	}
	if r.client == nil {
		r.client = defaultHTTPClient()
	}
	r.startsOff.Store(opts.DisableReconcileStarts)
	r.abortCtx, r.abort = context.WithCancel(context.Background())
	log.Info("kreplay reporting is on", "url", endpoint, "token", token != "")
	go r.run()
	return r
}

// Enabled reports whether records are being sent anywhere.
func (r *Reporter) Enabled() bool { return r != nil && r.ch != nil }

// ReportReconcile records one Reconcile() call. It never blocks.
func (r *Reporter) ReportReconcile(rec Reconcile) {
	if !r.Enabled() {
		return
	}
	if rec.Controller == "" || !rec.Object.valid() {
		r.invalid("reconcile", rec.Object)
		return
	}
	if rec.Finished.IsZero() {
		rec.Finished = time.Now()
	}
	if rec.Started.IsZero() {
		rec.Started = rec.Finished
	}
	r.enqueue(rec.pending())
}

// ReportReconcileStart records that a Reconcile() call has begun (WrapReconciler does it for you). It never blocks.
func (r *Reporter) ReportReconcileStart(s ReconcileStart) {
	if !r.Enabled() || r.startsOff.Load() {
		return
	}
	if s.Controller == "" || !s.Object.valid() {
		r.invalid("reconcile-start", s.Object)
		return
	}
	if s.Started.IsZero() {
		s.Started = time.Now()
	}
	r.enqueue(&s)
}

// ReportDelivery records one informer event handler call. It never blocks.
func (r *Reporter) ReportDelivery(d Delivery) {
	if !r.Enabled() {
		return
	}
	if d.Controller == "" || !d.Object.valid() || (d.Handler != HandlerAdd && d.Handler != HandlerUpdate && d.Handler != HandlerDelete) {
		r.invalid("delivery", d.Object)
		return
	}
	if d.At.IsZero() {
		d.At = time.Now()
	}
	r.enqueue(&d)
}

// ReportAPIRequest records one API request and its outcome. It never blocks.
func (r *Reporter) ReportAPIRequest(a APIRequest) {
	if !r.Enabled() {
		return
	}
	if a.Actor == "" || a.Verb == "" || !a.Object.valid() {
		r.invalid("api", a.Object)
		return
	}
	if a.At.IsZero() {
		a.At = time.Now()
	}
	r.enqueue(&a)
}

// Stats returns the counters so far; safe to call at any time (export them as metrics if you like).
func (r *Reporter) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	return Stats{Sent: r.sent.Load(), Dropped: r.dropped.Load(), Rejected: r.rejected.Load()}
}

// Close stops accepting records and sends what is buffered, retrying until ctx is done; records still unsent
// then are counted as dropped and ctx.Err() is returned. Call it after manager.Start returns: controller-runtime
// stops non-leader-election runnables before the controllers, so a Runnable would miss the last reconciles.
func (r *Reporter) Close(ctx context.Context) error {
	if !r.Enabled() {
		return nil
	}
	r.closeMu.Do(func() {
		r.closed.Store(true)
		close(r.stop)
	})
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		r.abort()
		<-r.done
		return ctx.Err()
	}
}

func (r *Reporter) enqueue(rec pending) {
	if r.closed.Load() {
		r.dropped.Add(1)
		return
	}
	select {
	case r.ch <- rec:
	default:
		r.dropped.Add(1)
	}
}

func (r *Reporter) invalid(kind string, ref ObjectRef) {
	r.rejected.Add(1)
	if r.loggedInvalid.CompareAndSwap(false, true) {
		r.log.Info("dropping an invalid record (logged once): a record needs a controller, the object's version, kind and name",
			"record", kind, "object", ref)
	}
}

// run is the flush goroutine: it owns the batch, the encoder buffer and all network I/O.
func (r *Reporter) run() {
	defer close(r.done)
	defer r.abort()
	batch := make([]pending, 0, r.batchSize)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var tick <-chan time.Time
	flush := func() {
		tick = nil
		timer.Stop()
		if len(batch) > 0 {
			r.send(batch)
			clear(batch)
			batch = batch[:0]
		}
		r.markDrops()
	}
	add := func(rec pending) {
		batch = append(batch, rec)
		if len(batch) == 1 {
			timer.Reset(r.flushInterval)
			tick = timer.C
		}
		if len(batch) >= r.batchSize {
			flush()
		}
	}
	for {
		select {
		case rec := <-r.ch:
			add(rec)
		case <-tick:
			flush()
		case <-r.stop:
		drain:
			for {
				select {
				case rec := <-r.ch:
					add(rec)
				default:
					break drain
				}
			}
			flush()
			return
		}
	}
}

// send encodes a batch as NDJSON and delivers it in requests of at most maxBatchBytes.
func (r *Reporter) send(batch []pending) {
	lines := make([][]byte, 0, len(batch))
	size := 0
	for _, rec := range batch {
		line, err := json.Marshal(rec.encode())
		if err != nil { // cannot happen with the wire structs; never crash the controller over it
			r.rejected.Add(1)
			continue
		}
		if size+len(line)+1 > maxBatchBytes && len(lines) > 0 {
			r.deliver(lines)
			lines, size = lines[:0:0], 0
		}
		lines = append(lines, line)
		size += len(line) + 1
	}
	if len(lines) > 0 {
		r.deliver(lines)
	}
}

// deliver posts lines until the recorder accepts or refuses them (POST /v1/records, recorder/ingest-server.ts):
//   - 2xx (the recorder answers 202 once queued): sent;
//   - 503 whose body counts the records as dropped (the recorder's queue is full): the recorder has already put
//     them in a `dropped` marker, so they are not resent (docs/format.md, Ingest protocol);
//   - other 5xx, 408, 429 (Retry-After honoured) and connection errors: retried with capped exponential backoff,
//     indefinitely while running (newer records queue up behind, then overflow and are counted), a few times once
//     Close was called, and never after Close's deadline;
//   - 400 naming a line (a batch is all or nothing): that line is dropped and the rest resent;
//   - 413: the batch is halved; any other 4xx drops the batch. Refusals are logged once per status code.
func (r *Reporter) deliver(lines [][]byte) bool {
	backoff := initialBackoff
	for attempt := 1; len(lines) > 0; attempt++ {
		n := uint64(len(lines))
		if r.unreachable {
			r.dropped.Add(n)
			return false
		}
		status, retryAfter, body, err := r.post(lines)
		switch {
		case err == nil && status >= 200 && status < 300:
			r.sent.Add(n)
			if !r.outageSince.IsZero() {
				r.log.Info("kreplay recorder reachable again", "after", time.Since(r.outageSince).Round(time.Millisecond).String(),
					"droppedSoFar", r.dropped.Load())
				r.outageSince = time.Time{}
			}
			return true
		case err == nil && status == http.StatusServiceUnavailable && recorderDropped(body):
			r.rejected.Add(n)
			r.logRefusal(status, n, body, "the recorder's queue is full; it marked these records as dropped")
			return false
		case err != nil || status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
			closing := r.closed.Load()
			if r.abortCtx.Err() != nil || (closing && attempt >= closeAttempts) {
				// Closing and the recorder does not answer: drop this and everything after it at once, so that a
				// Close(context.Background()) with the recorder gone still returns.
				r.unreachable = closing
				r.dropped.Add(n)
				return false
			}
			if r.outageSince.IsZero() {
				r.outageSince = time.Now()
				r.log.Info("kreplay recorder unavailable: retrying in the background; records beyond the buffer are dropped and counted",
					"url", r.url, "status", status, "error", errString(err))
			}
			wait := backoff/2 + rand.N(backoff/2+1)
			if retryAfter > 0 {
				wait = retryAfter
			}
			if !r.sleep(wait) {
				r.dropped.Add(n)
				return false
			}
			backoff = min(backoff*2, maxBackoff)
		case status == http.StatusBadRequest && badLine(body, len(lines)) > 0 && isStart(lines[badLine(body, len(lines))-1]):
			// A recorder older than reconcile-start records (recorder/ingest-server.ts ingestKinds) refuses each
			// one: stop sending them and resend the rest at once rather than one refusal per start.
			r.startsOff.Store(true)
			kept := lines[:0:0]
			for _, line := range lines {
				if !isStart(line) {
					kept = append(kept, line)
				}
			}
			r.rejected.Add(uint64(len(lines) - len(kept)))
			r.logRefusal(status, uint64(len(lines)-len(kept)), body, "this recorder does not accept reconcile-start records: no more are sent, the rest of the batch is resent")
			lines = kept
			backoff = initialBackoff
		case status == http.StatusBadRequest && badLine(body, len(lines)) > 0:
			bad := badLine(body, len(lines)) - 1
			r.rejected.Add(1)
			r.logRefusal(status, 1, body, "the rest of the batch is resent")
			lines = append(lines[:bad:bad], lines[bad+1:]...)
			backoff = initialBackoff
		case status == http.StatusRequestEntityTooLarge && len(lines) > 1:
			half := len(lines) / 2
			a := r.deliver(lines[:half])
			b := r.deliver(lines[half:])
			return a && b
		default:
			r.rejected.Add(n)
			hint := ""
			switch status {
			case http.StatusUnauthorized, http.StatusForbidden:
				hint = "check " + EnvToken
			case http.StatusNotFound, http.StatusMethodNotAllowed:
				hint = "check " + EnvURL + " (the path defaults to " + defaultPath + ")"
			case http.StatusRequestEntityTooLarge:
				hint = "one record is larger than the recorder's server.maxBodySize"
			}
			r.logRefusal(status, n, body, hint)
			return false
		}
	}
	return true
}

func (r *Reporter) logRefusal(status int, records uint64, body, hint string) {
	if r.loggedStatus[status] {
		return
	}
	r.loggedStatus[status] = true
	r.log.Info("kreplay recorder refused records (logged once per status code)", "status", status, "records", records,
		"response", body, "hint", hint)
}

// recorderDropped reports whether a 503 body is the recorder's "queue full, dropped and marked" answer.
func recorderDropped(body string) bool {
	var answer struct {
		Dropped *int `json:"dropped"`
	}
	return json.Unmarshal([]byte(body), &answer) == nil && answer.Dropped != nil
}

// badLine returns the 1-based line a 400 answer names ({"error": "line 3: ...", "line": 3}), or 0.
// isStart tells a reconcile-start line by its first key, which the wire struct always writes first.
func isStart(line []byte) bool {
	return bytes.HasPrefix(line, []byte(`{"record":"`+recordReconcileStart+`"`))
}

func badLine(body string, lines int) int {
	var answer struct {
		Line int `json:"line"`
	}
	if json.Unmarshal([]byte(body), &answer) != nil || answer.Line < 1 || answer.Line > lines {
		return 0
	}
	return answer.Line
}

// markDrops tells the recorder how many records this process lost, as a `dropped` marker sent on its own so that
// a recorder which does not accept markers over ingest refuses only the marker.
func (r *Reporter) markDrops() {
	if r.markersRefused || r.unreachable || !r.outageSince.IsZero() || r.abortCtx.Err() != nil {
		return
	}
	dropped := r.dropped.Load()
	if dropped <= r.markedDrops {
		return
	}
	count := dropped - r.markedDrops
	line, _ := json.Marshal(&wireMarker{
		Record: "marker", ObservedAt: timestamp(time.Now()), Origin: origin, Marker: "dropped", Count: count,
		Message: fmt.Sprintf("%d records dropped by the reporting SDK in the controller process (buffer full or recorder unreachable)", count),
	})
	status, _, body, err := r.post([][]byte{line})
	switch {
	case err == nil && status >= 200 && status < 300:
		r.markedDrops = dropped
	case err == nil && status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		r.markersRefused = true
		r.log.Info("the recorder does not accept dropped markers over ingest; this process's drops are counted in Stats only",
			"status", status, "response", body)
	}
	// Otherwise try again after the next batch.
}

func (r *Reporter) post(lines [][]byte) (status int, retryAfter time.Duration, body string, err error) {
	r.buf.Reset()
	for _, line := range lines {
		r.buf.Write(line)
		r.buf.WriteByte('\n')
	}
	req, err := http.NewRequestWithContext(r.abortCtx, http.MethodPost, r.url, bytes.NewReader(r.buf.Bytes()))
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("User-Agent", userAgent)
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, perr := strconv.Atoi(s); perr == nil && secs > 0 {
			retryAfter = min(time.Duration(secs)*time.Second, maxRetryAfter)
		}
	}
	return resp.StatusCode, retryAfter, strings.TrimSpace(string(msg)), nil
}

func (r *Reporter) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stop: // Close was called: retry now, a few times at most (closeAttempts), rather than sleep on
		return true
	case <-r.abortCtx.Done():
		return false
	}
}

func ingestURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = defaultPath
	}
	return u.String(), nil
}

func defaultHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.MaxIdleConns = 2
	transport.MaxIdleConnsPerHost = 2
	return &http.Client{Timeout: 10 * time.Second, Transport: transport}
}

func positive(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
