package kreplay

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

// fakeRecorder stands in for the recorder's ingest endpoint: it keeps every request and answers with the status
// respond returns (200 when nil).
type fakeRecorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recordedRequest
	respond  func(n int, r *http.Request) int // n: 1-based request number
	arrived  chan struct{}
}

type recordedRequest struct {
	path, contentType, auth string
	lines                   [][]byte
	status                  int
}

func newFakeRecorder(t *testing.T, respond func(n int, r *http.Request) int) *fakeRecorder {
	t.Helper()
	f := &fakeRecorder{respond: respond, arrived: make(chan struct{}, 1000)}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var lines [][]byte
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 1<<20), 8<<20)
		for sc.Scan() {
			lines = append(lines, slices.Clone(sc.Bytes()))
		}
		f.mu.Lock()
		n := len(f.requests) + 1
		status := http.StatusOK
		if f.respond != nil {
			status = f.respond(n, req)
		}
		f.requests = append(f.requests, recordedRequest{
			path: req.URL.Path, contentType: req.Header.Get("Content-Type"), auth: req.Header.Get("Authorization"),
			lines: lines, status: status,
		})
		f.mu.Unlock()
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = fmt.Fprintf(w, `{"accepted":%d}`, len(lines))
		} else {
			_, _ = fmt.Fprintf(w, `{"error":"status %d"}`, status)
		}
		f.arrived <- struct{}{}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeRecorder) snapshot() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// accepted returns the records of the requests answered 2xx, decoded.
func (f *fakeRecorder) accepted(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, req := range f.snapshot() {
		if req.status/100 != 2 {
			continue
		}
		for _, line := range req.lines {
			out = append(out, decode(t, line))
		}
	}
	return out
}

func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(line, &rec); err != nil {
		t.Fatalf("not a JSON object: %s: %v", line, err)
	}
	return rec
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A compact rendering of model/records.ts, enough to catch a misspelt key, a missing required key, a wrong JSON
// type or an enum value the TypeScript side would refuse. The authoritative check is sdk/ts/go-golden.unit.test.ts,
// which parses testdata/golden.ndjson with the real zod schemas.
type fieldSpec struct {
	required bool
	types    string // allowed JSON types: s(tring) n(umber, integer) b(ool) o(bject) 0 (null)
	enum     []string
}

var (
	timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
	common      = map[string]fieldSpec{
		"record":     {required: true, types: "s"},
		"seq":        {types: "n"},
		"observedAt": {required: true, types: "s0"},
		"origin":     {required: true, types: "s", enum: []string{"ingest"}},
	}
	objectRefSchema = map[string]fieldSpec{
		"group": {required: true, types: "s"}, "version": {required: true, types: "s"}, "resource": {types: "s"},
		"kind": {required: true, types: "s"}, "namespace": {required: true, types: "s0"}, "name": {required: true, types: "s"},
		"uid": {types: "s0"},
	}
	schemas = map[string]map[string]fieldSpec{
		"reconcile": {
			"controller": {required: true, types: "s"}, "object": {required: true, types: "o"},
			"startedAt": {required: true, types: "s"}, "finishedAt": {required: true, types: "s"},
			"observedResourceVersion": {types: "s0"}, "observedGeneration": {types: "n0"},
			"result":       {required: true, types: "s", enum: []string{"success", "requeue", "requeue-after", "error"}},
			"errorReason":  {types: "s0", enum: []string{"NotFound", "Conflict", "AlreadyExists", "Timeout", "Forbidden", "Invalid", "other"}},
			"errorMessage": {types: "s0"}, "requeueAfterMs": {types: "n0"},
		},
		"reconcile-start": {
			"controller": {required: true, types: "s"}, "object": {required: true, types: "o"},
			"startedAt": {required: true, types: "s"}, "observedResourceVersion": {types: "s0"}, "observedGeneration": {types: "n0"},
		},
		"delivery": {
			"controller": {required: true, types: "s"}, "handler": {required: true, types: "s", enum: []string{"add", "update", "delete"}},
			"tombstone": {types: "b"}, "object": {required: true, types: "o"}, "resourceVersion": {required: true, types: "s0"},
			"oldResourceVersion": {types: "s0"},
		},
		"api": {
			"actor": {required: true, types: "s"}, "userAgent": {types: "s0"}, "byController": {types: "b"},
			"verb":   {required: true, types: "s", enum: []string{"create", "update", "patch", "delete", "deletecollection", "get", "list", "watch"}},
			"object": {required: true, types: "o"}, "subresource": {types: "s0"}, "code": {required: true, types: "n"},
			"reason": {types: "s0"}, "message": {types: "s0"}, "resourceVersionBefore": {types: "s0"},
			"resourceVersionAfter": {types: "s0"}, "responseObject": {types: "o0"}, "auditId": {types: "s0"},
		},
		"marker": {
			"marker": {required: true, types: "s", enum: []string{"dropped"}}, "count": {types: "n"}, "message": {types: "s"},
		},
	}
)

// checkRecord fails the test unless rec is a valid record of model/records.ts as the SDK emits them.
func checkRecord(t *testing.T, rec map[string]any) {
	t.Helper()
	kind, _ := rec["record"].(string)
	schema, ok := schemas[kind]
	if !ok {
		t.Fatalf("unknown record kind %q in %v", kind, rec)
	}
	all := map[string]fieldSpec{}
	for k, v := range common {
		all[k] = v
	}
	for k, v := range schema {
		all[k] = v
	}
	checkFields(t, kind, rec, all)
	if obj, ok := rec["object"].(map[string]any); ok {
		checkFields(t, kind+".object", obj, objectRefSchema)
		for _, k := range []string{"version", "kind", "name"} {
			if s, _ := obj[k].(string); s == "" {
				t.Errorf("%s.object.%s is empty", kind, k)
			}
		}
	}
	for _, k := range []string{"observedAt", "startedAt", "finishedAt"} {
		if s, ok := rec[k].(string); ok && !timestampRE.MatchString(s) {
			t.Errorf("%s.%s = %q is not an RFC 3339 timestamp", kind, k, s)
		}
	}
	switch kind {
	case "reconcile":
		if rec["result"] == "error" && rec["errorReason"] == nil {
			t.Errorf("an error result needs an errorReason: %v", rec)
		}
		if rec["result"] == "requeue-after" && rec["requeueAfterMs"] == nil {
			t.Errorf("a requeue-after result needs requeueAfterMs: %v", rec)
		}
		start, _ := time.Parse(time.RFC3339Nano, rec["startedAt"].(string))
		end, _ := time.Parse(time.RFC3339Nano, rec["finishedAt"].(string))
		if end.Before(start) {
			t.Errorf("finishedAt before startedAt: %v", rec)
		}
	case "api":
		if c, _ := rec["code"].(float64); c != float64(int64(c)) {
			t.Errorf("code is not an integer: %v", rec)
		}
	}
}

func checkFields(t *testing.T, where string, rec map[string]any, schema map[string]fieldSpec) {
	t.Helper()
	keys := make([]string, 0, len(rec))
	for k := range rec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f, ok := schema[k]
		if !ok {
			t.Errorf("%s: unexpected key %q", where, k)
			continue
		}
		v := rec[k]
		typ := "?"
		switch x := v.(type) {
		case nil:
			typ = "0"
		case string:
			typ = "s"
			if f.enum != nil && !slices.Contains(f.enum, x) {
				t.Errorf("%s.%s = %q, want one of %v", where, k, x, f.enum)
			}
		case float64:
			typ = "n"
			if x != float64(int64(x)) || x < 0 {
				t.Errorf("%s.%s = %v is not a non-negative integer", where, k, x)
			}
		case bool:
			typ = "b"
		case map[string]any:
			typ = "o"
		}
		if !bytes.Contains([]byte(f.types), []byte(typ)) {
			t.Errorf("%s.%s = %#v has JSON type %s, want one of %q", where, k, v, typ, f.types)
		}
	}
	for k, f := range schema {
		if _, ok := rec[k]; f.required && !ok {
			t.Errorf("%s: missing required key %q", where, k)
		}
	}
}
