package kreplay_test

import (
	"context"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kreplay "github.com/kreplay/kreplay/sdk/go"
)

// WebReconciler is your reconciler, unchanged.
type WebReconciler struct {
	client.Client
}

func (r *WebReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var d appsv1.Deployment
	if err := r.Get(ctx, req.NamespacedName, &d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{RequeueAfter: time.Minute}, nil
}

// Wiring the SDK into a controller-runtime manager. With KREPLAY_INGEST_URL unset every Wrap* returns what it was
// given and the controller runs exactly as before.
func Example() {
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{})
	if err != nil {
		os.Exit(1)
	}
	rep := kreplay.NewReporter(kreplay.Options{}) // KREPLAY_INGEST_URL, KREPLAY_INGEST_TOKEN

	// Reconcile outcomes (and, through the cache, the resourceVersion each reconcile acted on) and API writes.
	reconciler := &WebReconciler{Client: kreplay.WrapClient("web", mgr.GetClient(), rep)}
	err = ctrl.NewControllerManagedBy(mgr).Named("web").For(&appsv1.Deployment{}).
		Complete(kreplay.WrapReconciler("web", reconciler, rep,
			kreplay.WithObject(&appsv1.Deployment{}), kreplay.WithCacheReader(mgr.GetCache())))
	if err != nil {
		os.Exit(1)
	}

	// Informer deliveries, tombstones included: observe the informer the controller shares.
	ctx := ctrl.SetupSignalHandler()
	if informer, err := mgr.GetCache().GetInformer(ctx, &appsv1.Deployment{}); err == nil {
		_, _ = informer.AddEventHandler(kreplay.WrapEventHandler("web", appsv1.SchemeGroupVersion.WithKind("Deployment"),
			cache.ResourceEventHandlerFuncs{}, rep))
	}

	err = mgr.Start(ctx)
	// After the manager (and so every reconcile) has stopped: send what is still buffered, for at most 5s.
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = rep.Close(closeCtx)
	cancel()
	if err != nil {
		os.Exit(1)
	}
}
