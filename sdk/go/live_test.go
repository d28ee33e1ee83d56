package kreplay

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestLiveRecorder reports to a real kreplay recorder. sdk/ts/ingest.int.test.ts runs it against the real ingest
// server (recorder/ingest-server.ts) writing into a real SQLite file, and checks what landed in the store.
func TestLiveRecorder(t *testing.T) {
	url := os.Getenv("KREPLAY_LIVE_INGEST_URL")
	if url == "" {
		t.Skip("KREPLAY_LIVE_INGEST_URL not set: run by sdk/ts/ingest.int.test.ts against the real recorder")
	}
	rep := NewReporter(Options{URL: url, Token: os.Getenv("KREPLAY_LIVE_INGEST_TOKEN")})
	errs := []error{nil, reconcile.TerminalError(apierrors.NewNotFound(deploymentGR, "web")), errors.New("boom")}
	for _, err := range errs {
		wrapped := WrapReconciler("go-live", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{RequeueAfter: 2 * time.Second}, err
		}), rep, WithObject(&appsv1.Deployment{}))
		_, _ = wrapped.Reconcile(context.Background(), webRequest)
	}
	h := WrapEventHandler("go-live", deploymentGVK, nil, rep)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-web", ResourceVersion: "7"}}
	h.OnAdd(d, true)
	h.OnUpdate(d, d)
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/web", Obj: d})
	c := WrapClient("go-live", fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).Build(), rep)
	if err := c.Create(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rep.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s := rep.Stats(); s.Sent != 10 || s.Rejected != 0 || s.Dropped != 0 {
		t.Fatalf("stats %+v: the recorder must accept all 10 records (3 reconcile starts, 3 reconciles, 3 deliveries, 1 request)", s)
	}
}
