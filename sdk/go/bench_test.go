package kreplay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The cost a wrapped Reconcile adds, with the recorder accepting everything, down, or not configured.
// go test -run '^$' -bench . -benchmem
func benchmarkReconcile(b *testing.B, rep *Reporter, opts ...WrapOption) {
	noop := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return reconcile.Result{}, nil })
	wrapped := WrapReconciler("web", noop, rep, append([]WrapOption{WithObject(&appsv1.Deployment{})}, opts...)...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, _ = wrapped.Reconcile(ctx, webRequest)
	}
	b.StopTimer()
	_ = rep.Close(ctx)
}

func BenchmarkReconcileDisabled(b *testing.B) {
	benchmarkReconcile(b, &Reporter{})
}

func BenchmarkReconcileRecorderUp(b *testing.B) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer server.Close()
	benchmarkReconcile(b, NewReporter(Options{URL: server.URL}))
}

func BenchmarkReconcileRecorderUpWithCacheRead(b *testing.B) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer server.Close()
	reader := &stubReader{obj: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", ResourceVersion: "1", Generation: 1}}}
	benchmarkReconcile(b, NewReporter(Options{URL: server.URL}), WithCacheReader(reader))
}

func BenchmarkReconcileRecorderDown(b *testing.B) {
	benchmarkReconcile(b, NewReporter(Options{URL: "http://127.0.0.1:1"}))
}
