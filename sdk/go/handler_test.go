package kreplay

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

var configMapGVK = corev1.SchemeGroupVersion.WithKind("ConfigMap")

func configMap(name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name), ResourceVersion: rv}}
}

// recordingHandler is the controller's own handler: it must receive exactly what the informer delivered.
type recordingHandler struct {
	mu    sync.Mutex
	calls []string
	last  any
	objs  []any
}

func (h *recordingHandler) note(call string, obj any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, call)
	h.last = obj
	h.objs = append(h.objs, obj)
}
func (h *recordingHandler) OnAdd(obj any, _ bool)  { h.note("add", obj) }
func (h *recordingHandler) OnUpdate(_, newObj any) { h.note("update", newObj) }
func (h *recordingHandler) OnDelete(obj any)       { h.note("delete", obj) }
func (h *recordingHandler) snapshot() ([]string, any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...), h.last
}

func TestDeliveriesAndTombstones(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	inner := &recordingHandler{}
	h := WrapEventHandler("cm-controller", configMapGVK, inner, rep)

	h.OnAdd(configMap("a", "10"), true)
	h.OnUpdate(configMap("a", "10"), configMap("a", "11"))
	h.OnUpdate(configMap("a", "11"), configMap("a", "11")) // resync
	h.OnDelete(configMap("a", "12"))
	tombstone := cache.DeletedFinalStateUnknown{Key: "default/b", Obj: configMap("b", "7")}
	h.OnDelete(tombstone)
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/c", Obj: nil}) // no last known object: from the key
	h.OnDelete("not an object")                                            // passed on, not reported
	_ = rep.Close(context.Background())

	calls, last := inner.snapshot()
	if len(calls) != 7 || last != "not an object" {
		t.Errorf("inner handler saw %v", calls)
	}
	records := rec.accepted(t)
	if len(records) != 6 {
		t.Fatalf("%d records, want 6", len(records))
	}
	for _, r := range records {
		checkRecord(t, r)
	}
	type row struct {
		handler     string
		name        string
		rv, oldRV   any
		tombstone   bool
		uidReported bool
	}
	want := []row{
		{"add", "a", "10", nil, false, true},
		{"update", "a", "11", "10", false, true},
		{"update", "a", "11", "11", false, true},
		{"delete", "a", "12", nil, false, true},
		{"delete", "b", "7", nil, true, true},
		{"delete", "c", nil, nil, true, false},
	}
	for i, w := range want {
		r := records[i]
		obj := r["object"].(map[string]any)
		_, hasUID := obj["uid"]
		if r["handler"] != w.handler || obj["name"] != w.name || r["resourceVersion"] != w.rv || r["oldResourceVersion"] != w.oldRV ||
			r["tombstone"] != w.tombstone || hasUID != w.uidReported || obj["kind"] != "ConfigMap" || obj["group"] != "" || obj["namespace"] != "default" {
			t.Errorf("record %d = %v, want %+v", i, r, w)
		}
	}
}

func TestDisabledEventHandler(t *testing.T) {
	inner := &recordingHandler{}
	if h := WrapEventHandler("c", configMapGVK, inner, &Reporter{}); h != cache.ResourceEventHandler(inner) {
		t.Error("a disabled reporter must return the handler itself")
	}
	WrapEventHandler("c", configMapGVK, nil, nil).OnAdd(configMap("a", "1"), false) // nil handler, nil reporter: no panic
	rep := NewReporter(Options{URL: "http://127.0.0.1:1"})
	defer rep.Close(context.Background())
	WrapEventHandler("c", configMapGVK, nil, rep).OnDelete(configMap("a", "1")) // observe-only
}

// A real client-go informer: after a relist that no longer contains an object, the FIFO delivers its deletion as
// a DeletedFinalStateUnknown (delta_fifo.go Replace / the_real_fifo.go), and the wrapper reports tombstone: true.
func TestRealInformerRelistTombstone(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	var lists atomic.Int32
	watchers := make(chan *watch.FakeWatcher, 4)
	lw := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (runtime.Object, error) {
			if lists.Add(1) == 1 {
				return &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "10"},
					Items: []corev1.ConfigMap{*configMap("a", "5"), *configMap("b", "9")}}, nil
			}
			// "b" was deleted while the watch was down: the relist simply does not contain it.
			return &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "20"}, Items: []corev1.ConfigMap{*configMap("a", "5")}}, nil
		},
		WatchFunc: func(metav1.ListOptions) (watch.Interface, error) {
			w := watch.NewFake()
			watchers <- w
			return w, nil
		},
	}
	informer := cache.NewSharedIndexInformer(listAndWatchOnly{lw}, &corev1.ConfigMap{}, 0, cache.Indexers{})
	inner := &recordingHandler{}
	if _, err := informer.AddEventHandler(WrapEventHandler("cm-controller", configMapGVK, inner, rep)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go informer.Run(stop)
	if !cache.WaitForCacheSync(stop, informer.HasSynced) {
		t.Fatal("no sync")
	}
	// The watch expires: the reflector relists (after its backoff).
	w := <-watchers
	w.Error(&metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	tombstoneDelivered := func() bool {
		inner.mu.Lock()
		defer inner.mu.Unlock()
		for _, obj := range inner.objs {
			if _, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				return true
			}
		}
		return false
	}
	waitFor(t, "the informer to deliver a DeletedFinalStateUnknown", tombstoneDelivered)
	waitFor(t, "the relisted object", func() bool { calls, _ := inner.snapshot(); return len(calls) == 4 }) // add a, add b, delete b, update a
	_ = rep.Close(context.Background())
	var tombstones int
	for _, r := range rec.accepted(t) {
		checkRecord(t, r)
		if r["handler"] == "delete" {
			obj := r["object"].(map[string]any)
			if r["tombstone"] != true || obj["name"] != "b" || r["resourceVersion"] != "9" {
				t.Errorf("delete record %v", r)
			}
			tombstones++
		}
		if r["handler"] == "update" && r["resourceVersion"] != r["oldResourceVersion"] {
			t.Errorf("the relisted, unchanged object is an update with equal RVs: %v", r)
		}
	}
	if tombstones != 1 {
		t.Errorf("%d tombstone deliveries reported", tombstones)
	}
}

// listAndWatchOnly keeps the reflector on LIST + WATCH (client-go 1.36 otherwise tries a WatchList stream first,
// which this fake does not speak; reflector.go, watchlist.DoesClientNotSupportWatchListSemantics).
type listAndWatchOnly struct{ *cache.ListWatch }

func (listAndWatchOnly) IsWatchListSemanticsUnSupported() bool { return true }
