package kreplay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var deployment = ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "default", Name: "web"}

func reconcileOf(i int) Reconcile {
	start := time.Now()
	return Reconcile{Controller: "web", Object: deployment, Started: start, Finished: start.Add(time.Duration(i) * time.Microsecond)}
}

func TestBatchedNDJSONWithTokenAndPath(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL, Token: "s3cret-token-0123456789"})
	rep.ReportReconcile(reconcileOf(1))
	rep.ReportReconcile(Reconcile{Controller: "web", Object: deployment, Started: time.Now(), Finished: time.Now(),
		Result: reconcile.Result{RequeueAfter: 1500 * time.Millisecond}})
	rep.ReportDelivery(Delivery{Controller: "web", Handler: HandlerUpdate, Object: deployment, ResourceVersion: "12", OldResourceVersion: "12"})
	rep.ReportAPIRequest(APIRequest{Actor: "web", Verb: "update", Object: deployment, Code: 409, Reason: "Conflict", ResourceVersionBefore: "11"})
	if err := rep.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	reqs := rec.snapshot()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want the 4 records in one batch", len(reqs))
	}
	r := reqs[0]
	if r.path != "/v1/records" || r.contentType != "application/x-ndjson" || r.auth != "Bearer s3cret-token-0123456789" {
		t.Errorf("request: path %q, content-type %q, auth %q", r.path, r.contentType, r.auth)
	}
	records := rec.accepted(t)
	if len(records) != 4 {
		t.Fatalf("%d records, want 4", len(records))
	}
	for _, record := range records {
		checkRecord(t, record)
	}
	if got := records[1]["requeueAfterMs"]; got != float64(1500) {
		t.Errorf("requeueAfterMs = %v", got)
	}
	if records[2]["oldResourceVersion"] != "12" || records[2]["tombstone"] != false {
		t.Errorf("delivery: %v", records[2])
	}
	if records[3]["byController"] != true || records[3]["code"] != float64(409) {
		t.Errorf("api: %v", records[3])
	}
	if s := rep.Stats(); s.Sent != 4 || s.Dropped != 0 || s.Rejected != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestBatchSizeAndFlushInterval(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL, BatchSize: 10, FlushInterval: 50 * time.Millisecond})
	defer rep.Close(context.Background())
	for i := range 25 {
		rep.ReportReconcile(reconcileOf(i))
	}
	start := time.Now()
	waitFor(t, "25 records", func() bool { return len(rec.accepted(t)) == 25 })
	for _, r := range rec.snapshot() {
		if len(r.lines) > 10 {
			t.Errorf("a batch of %d records, BatchSize is 10", len(r.lines))
		}
	}
	// The last 5 records do not fill a batch: they go after the flush interval, without Close.
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("records waited %v, flush interval is 50ms", waited)
	}
}

func TestFlushIntervalIsCappedAt250ms(t *testing.T) {
	rep := NewReporter(Options{URL: "http://127.0.0.1:1", FlushInterval: time.Minute})
	defer rep.Close(context.Background())
	if rep.flushInterval != 250*time.Millisecond {
		t.Errorf("flush interval %v", rep.flushInterval)
	}
}

func TestEnvironmentAndDefaultPath(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	t.Setenv(EnvURL, rec.URL) // no path: /v1/records is assumed
	t.Setenv(EnvToken, "from-the-environment-0123")
	rep := NewReporter(Options{})
	rep.ReportReconcile(reconcileOf(1))
	_ = rep.Close(context.Background())
	reqs := rec.snapshot()
	if len(reqs) != 1 || reqs[0].path != "/v1/records" || reqs[0].auth != "Bearer from-the-environment-0123" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestDisabledReporterIsFree(t *testing.T) {
	t.Setenv(EnvURL, "")
	rep := NewReporter(Options{})
	if rep.Enabled() {
		t.Fatal("enabled without a URL")
	}
	inner := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return reconcile.Result{}, nil })
	wrapped := WrapReconciler("web", inner, rep, WithGVK(deploymentGVK))
	if _, same := wrapped.(reconcile.Func); !same {
		t.Errorf("a disabled reporter must return the reconciler itself, got %T", wrapped)
	}
	rep.ReportReconcile(reconcileOf(1))
	var nilRep *Reporter
	nilRep.ReportDelivery(Delivery{})
	if err := nilRep.Close(context.Background()); err != nil || rep.Close(context.Background()) != nil {
		t.Error("Close of a disabled reporter")
	}
	if nilRep.Stats() != (Stats{}) {
		t.Error("stats of a nil reporter")
	}
	if got := testing.AllocsPerRun(100, func() { rep.ReportReconcile(reconcileOf(1)) }); got != 0 {
		t.Errorf("disabled ReportReconcile allocates %v times", got)
	}
}

// The recorder hangs (accepts the connection, never answers): Reconcile must not notice.
func TestReconcileIsNotSlowedByAHangingRecorder(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hanging.Close()
	defer close(release)
	rep := NewReporter(Options{URL: hanging.URL, BufferSize: 16, BatchSize: 4, FlushInterval: time.Millisecond})
	wrapped := WrapReconciler("web", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		return reconcile.Result{}, nil
	}), rep, WithGVK(deploymentGVK))

	req := reconcile.Request{}
	req.Namespace, req.Name = "default", "web"
	var slowest time.Duration
	start := time.Now()
	for range 5000 {
		t0 := time.Now()
		_, _ = wrapped.Reconcile(context.Background(), req)
		slowest = max(slowest, time.Since(t0))
	}
	total := time.Since(start)
	if total > 500*time.Millisecond || slowest > 50*time.Millisecond {
		t.Errorf("5000 reconciles took %v (slowest %v) while the recorder hangs", total, slowest)
	}
	if rep.Stats().Dropped < 5000-16-4 {
		t.Errorf("dropped %d, want the overflow beyond the buffer counted", rep.Stats().Dropped)
	}
	// Close gives up at its deadline and says so.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := rep.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v", err)
	}
	if waited := time.Since(t0); waited > time.Second {
		t.Errorf("Close waited %v past its 100ms deadline", waited)
	}
	if s := rep.Stats(); s.Sent != 0 || s.Dropped != 10000 { // a start and a finish per reconcile
		t.Errorf("stats %+v: every record was dropped", s)
	}
}

func TestRecorderDownThenUp(t *testing.T) {
	// Reserve a port, close it (connection refused), report, then start the recorder on that port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rep := NewReporter(Options{URL: "http://" + addr, BufferSize: 8, BatchSize: 2, FlushInterval: time.Millisecond})
	defer rep.Close(context.Background())
	for i := range 20 {
		rep.ReportReconcile(reconcileOf(i))
	}
	time.Sleep(150 * time.Millisecond) // a few refused attempts

	rec := newFakeRecorder(t, nil)
	rec.Close() // swap the listener for one on the reserved port
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	server := &http.Server{Handler: rec.Config.Handler}
	go func() { _ = server.Serve(ln) }()
	defer server.Close()

	hasMarker := func() bool {
		for _, r := range rec.accepted(t) {
			if r["record"] == "marker" {
				return true
			}
		}
		return false
	}
	waitFor(t, "every record sent or dropped, and the marker", func() bool {
		s := rep.Stats()
		return s.Sent+s.Dropped == 20 && hasMarker()
	})
	var reconciles int
	var marked float64
	for _, r := range rec.accepted(t) {
		checkRecord(t, r)
		switch r["record"] {
		case "reconcile":
			reconciles++
		case "marker":
			marked += r["count"].(float64)
		}
	}
	s := rep.Stats()
	if uint64(reconciles) != s.Sent || s.Dropped == 0 || uint64(marked) != s.Dropped {
		t.Errorf("%d reconciles and a dropped marker of %v arrived; stats %+v", reconciles, marked, s)
	}
}

func TestRetriesServerErrorsAndDropsClientErrors(t *testing.T) {
	rec := newFakeRecorder(t, func(n int, _ *http.Request) int {
		switch n {
		case 1, 2:
			return http.StatusServiceUnavailable
		case 3:
			return http.StatusOK
		default:
			return http.StatusBadRequest
		}
	})
	rep := NewReporter(Options{URL: rec.URL, FlushInterval: time.Millisecond})
	rep.ReportReconcile(reconcileOf(1))
	waitFor(t, "the retried batch", func() bool { return rep.Stats().Sent == 1 })
	rep.ReportReconcile(reconcileOf(2))
	rep.ReportReconcile(reconcileOf(3))
	_ = rep.Close(context.Background())
	reqs := rec.snapshot()
	if len(reqs) != 4 {
		t.Fatalf("%d requests: want 3 attempts for the first batch and a single one for the refused batch", len(reqs))
	}
	if s := rep.Stats(); s.Sent != 1 || s.Rejected != 2 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestRetryAfterOn429(t *testing.T) {
	var calls atomic.Int32
	var gap atomic.Int64
	var last atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		if prev := last.Swap(now); prev != 0 {
			gap.Store(now - prev)
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer server.Close()
	rep := NewReporter(Options{URL: server.URL})
	rep.ReportReconcile(reconcileOf(1))
	waitFor(t, "the retry", func() bool { return rep.Stats().Sent == 1 })
	_ = rep.Close(context.Background())
	if calls.Load() != 2 || time.Duration(gap.Load()) < 900*time.Millisecond || rep.Stats().Sent != 1 {
		t.Errorf("%d calls, %v apart, stats %+v: want a retry after Retry-After: 1", calls.Load(), time.Duration(gap.Load()), rep.Stats())
	}
}

func TestTooLargeHalvesTheBatch(t *testing.T) {
	var refusals atomic.Int32
	rec := newFakeRecorder(t, func(_ int, r *http.Request) int {
		if r.ContentLength > 600 {
			refusals.Add(1)
			return http.StatusRequestEntityTooLarge
		}
		return http.StatusOK
	})
	rep := NewReporter(Options{URL: rec.URL, BatchSize: 8})
	for i := range 8 {
		rep.ReportReconcile(reconcileOf(i))
	}
	_ = rep.Close(context.Background())
	if s := rep.Stats(); s.Sent != 8 || refusals.Load() == 0 {
		t.Errorf("stats %+v after %d refusals: a 413 must split the batch until it fits", s, refusals.Load())
	}
	for _, r := range rec.snapshot() {
		if r.status == http.StatusOK && len(r.lines) > 2 {
			t.Errorf("a batch of %d records got through a 600-byte limit", len(r.lines))
		}
	}
}

func TestCloseDrainsEverything(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL, BufferSize: 5000, FlushInterval: 250 * time.Millisecond})
	for i := range 2000 {
		rep.ReportReconcile(reconcileOf(i))
	}
	if err := rep.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.accepted(t)); got != 2000 {
		t.Errorf("%d records arrived before Close returned, want 2000", got)
	}
	rep.ReportReconcile(reconcileOf(1))
	if s := rep.Stats(); s.Sent != 2000 || s.Dropped != 1 {
		t.Errorf("stats %+v: a record reported after Close is dropped", s)
	}
	_ = rep.Close(context.Background()) // twice is fine
}

func TestInvalidRecordsAreRefusedLocally(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	rep.ReportReconcile(Reconcile{Controller: "web", Object: ObjectRef{Version: "v1", Kind: "Pod"}}) // no name
	rep.ReportDelivery(Delivery{Controller: "web", Handler: "resync", Object: deployment})
	rep.ReportAPIRequest(APIRequest{Verb: "create", Object: deployment}) // no actor
	_ = rep.Close(context.Background())
	if s := rep.Stats(); s.Rejected != 3 || len(rec.snapshot()) != 0 {
		t.Errorf("stats %+v, %d requests", s, len(rec.snapshot()))
	}
}

func TestInvalidURLDisables(t *testing.T) {
	for _, u := range []string{"127.0.0.1:9477", "ftp://x/", "http://"} {
		if NewReporter(Options{URL: u}).Enabled() {
			t.Errorf("%q accepted", u)
		}
	}
	if got, _ := ingestURL("http://127.0.0.1:9477/custom/path"); !strings.HasSuffix(got, "/custom/path") {
		t.Errorf("an explicit path is kept: %s", got)
	}
}

// The recorder's ingest server answers a batch with one bad line with 400 {"line": N}, keeping none of it
// (recorder/ingest-server.ts): the SDK drops that line and resends the others.
func TestBadLineIsDroppedAndTheRestResent(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	var first atomic.Bool
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"line 2: reconcile.errorReason: an error result needs an errorReason","line":2}`))
			return
		}
		rec.Config.Handler.ServeHTTP(w, r)
	}))
	defer server.Close()
	rep := NewReporter(Options{URL: server.URL})
	for i := range 3 {
		rep.ReportReconcile(reconcileOf(i))
	}
	_ = rep.Close(context.Background())
	if s := rep.Stats(); s.Sent != 2 || s.Rejected != 1 || len(rec.accepted(t)) != 2 {
		t.Errorf("stats %+v", s)
	}
}

// 503 {"dropped": N}: the recorder's queue was full and it marked the loss itself; resending would count it twice.
func TestQueueFullIsNotResent(t *testing.T) {
	var calls atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"the recorder's queue is full","dropped":1}`))
	}))
	defer server.Close()
	rep := NewReporter(Options{URL: server.URL})
	rep.ReportReconcile(reconcileOf(1))
	_ = rep.Close(context.Background())
	if calls.Load() != 1 || rep.Stats().Rejected != 1 {
		t.Errorf("%d calls, stats %+v", calls.Load(), rep.Stats())
	}
}

// Close(context.Background()) must return even when the recorder is gone for good.
func TestCloseReturnsWhenTheRecorderIsGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rep := NewReporter(Options{URL: "http://" + addr, BatchSize: 10})
	for i := range 100 {
		rep.ReportReconcile(reconcileOf(i))
	}
	t0 := time.Now()
	if err := rep.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(t0); waited > 3*time.Second {
		t.Errorf("Close took %v with the recorder gone", waited)
	}
	if s := rep.Stats(); s.Dropped != 100 {
		t.Errorf("stats %+v", s)
	}
}

// The recorder's ingest server takes reconcile, delivery and api records only: a `dropped` marker gets a 400. The
// SDK then stops sending markers, without counting the refusal against real records.
func TestDroppedMarkerRefusedOnce(t *testing.T) {
	release := make(chan struct{})
	var markers atomic.Int32
	rec := newFakeRecorder(t, func(n int, r *http.Request) int {
		if n == 1 {
			<-release // hold the first batch so that the buffer overflows
		}
		return http.StatusAccepted
	})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"record":"marker"`)) {
			markers.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"line 1: a \"marker\" record cannot be ingested","line":1}`))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.Config.Handler.ServeHTTP(w, r)
	}))
	defer server.Close()
	rep := NewReporter(Options{URL: server.URL, BufferSize: 2, BatchSize: 1, FlushInterval: time.Millisecond})
	rep.ReportReconcile(reconcileOf(0))
	waitFor(t, "the first batch in flight", func() bool { return len(rec.arrived) == 0 && rep.Stats().Sent == 0 && len(rep.ch) == 0 })
	for i := range 10 {
		rep.ReportReconcile(reconcileOf(i))
	}
	close(release)
	waitFor(t, "the buffered records", func() bool { return rep.Stats().Sent == 3 })
	for i := range 3 {
		rep.ReportReconcile(reconcileOf(i))
		time.Sleep(20 * time.Millisecond)
	}
	_ = rep.Close(context.Background())
	if s := rep.Stats(); markers.Load() != 1 || s.Rejected != 0 || s.Dropped != 8 || s.Sent != 6 {
		t.Errorf("%d marker posts, stats %+v", markers.Load(), s)
	}
}

func TestCloseDoesNotWaitOutALongRetryAfter(t *testing.T) {
	rec := newFakeRecorder(t, func(int, *http.Request) int { return http.StatusTooManyRequests })
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		rec.Config.Handler.ServeHTTP(w, r)
	}))
	defer server.Close()
	rep := NewReporter(Options{URL: server.URL, FlushInterval: time.Millisecond})
	rep.ReportReconcile(reconcileOf(1))
	waitFor(t, "the first attempt", func() bool { return len(rec.snapshot()) == 1 })
	t0 := time.Now()
	if err := rep.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(t0); waited > 2*time.Second || len(rec.snapshot()) != closeAttempts || rep.Stats().Dropped != 1 {
		t.Errorf("Close took %v, %d attempts, stats %+v", waited, len(rec.snapshot()), rep.Stats())
	}
}

// A sidecar wired with the wrong variable must say so in the controller's first lines, at Info.
func TestSaysOnceWhetherReportingIsOn(t *testing.T) {
	var lines []string
	capture := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})

	t.Setenv(EnvURL, "")
	off := NewReporter(Options{Logger: capture})
	if len(lines) != 1 || !strings.Contains(lines[0], "reporting is off") || !strings.Contains(lines[0], EnvURL) {
		t.Fatalf("without a URL: logged %q, want one line naming %s", lines, EnvURL)
	}
	_ = off.Close(context.Background())

	lines = nil
	rec := newFakeRecorder(t, nil)
	on := NewReporter(Options{URL: rec.URL, Token: "s3cret-token-0123456789", Logger: capture})
	defer on.Close(context.Background())
	if len(lines) != 1 || !strings.Contains(lines[0], "reporting is on") || !strings.Contains(lines[0], `"token"=true`) {
		t.Fatalf("with a URL: logged %q, want one 'reporting is on' line", lines)
	}
	if strings.Contains(lines[0], "s3cret") {
		t.Fatalf("the token itself was logged: %q", lines[0])
	}
}

// A recorder from before reconcile-start records refuses them by line (recorder/ingest-server.ts): the reporter
// stops sending them after the first refusal and the reconciles themselves still arrive.
func TestOldRecorderRefusingStartsGetsReconcilesOnly(t *testing.T) {
	var mu sync.Mutex
	requests, accepted := 0, 0
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		mu.Lock()
		defer mu.Unlock()
		requests++
		for i, line := range lines {
			if strings.HasPrefix(line, `{"record":"reconcile-start"`) {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = fmt.Fprintf(w, `{"error":"line %d: a \"reconcile-start\" record cannot be ingested","line":%d}`, i+1, i+1)
				return
			}
		}
		accepted += len(lines)
		w.WriteHeader(http.StatusAccepted)
		_, _ = fmt.Fprintf(w, `{"accepted":%d}`, len(lines))
	}))
	defer old.Close()
	rep := NewReporter(Options{URL: old.URL, FlushInterval: time.Millisecond})
	wrapped := WrapReconciler("web", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		return reconcile.Result{}, nil
	}), rep, WithGVK(deploymentGVK))
	for range 20 {
		_, _ = wrapped.Reconcile(context.Background(), webRequest)
	}
	_ = rep.Close(context.Background())
	mu.Lock()
	defer mu.Unlock()
	if accepted != 20 {
		t.Errorf("%d records accepted, want the 20 reconciles", accepted)
	}
	if requests > 6 {
		t.Errorf("%d requests: the starts must be given up after the first refusal, not refused one by one", requests)
	}
	if s := rep.Stats(); s.Sent != 20 || s.Rejected < 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestDisableReconcileStarts(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL, DisableReconcileStarts: true})
	wrapped := WrapReconciler("web", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		return reconcile.Result{}, nil
	}), rep, WithGVK(deploymentGVK))
	_, _ = wrapped.Reconcile(context.Background(), webRequest)
	_ = rep.Close(context.Background())
	if records := rec.accepted(t); len(records) != 1 || records[0]["record"] != "reconcile" {
		t.Errorf("records %v", records)
	}
}
