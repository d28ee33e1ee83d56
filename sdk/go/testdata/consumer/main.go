// A controller an operator might have, with the SDK wired in as sdk/README.md says: compat.sh builds it against
// each controller-runtime release it is asked for (testdata/: not part of the SDK's own build).
package main

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

type webReconciler struct {
	client.Client
}

func (r *webReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var d appsv1.Deployment
	if err := r.Get(ctx, req.NamespacedName, &d); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if d.Annotations["example"] == "" {
		patch := client.MergeFrom(d.DeepCopy())
		d.SetAnnotations(map[string]string{"example": "seen"})
		if err := r.Patch(ctx, &d, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: time.Minute}, nil
}

func main() {
	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{})
	if err != nil {
		os.Exit(1)
	}
	rep := kreplay.NewReporter(kreplay.Options{})
	reconciler := &webReconciler{Client: kreplay.WrapClient("web", mgr.GetClient(), rep)}
	err = ctrl.NewControllerManagedBy(mgr).Named("web").For(&appsv1.Deployment{}).
		Complete(kreplay.WrapReconciler("web", reconciler, rep,
			kreplay.WithObject(&appsv1.Deployment{}), kreplay.WithScheme(mgr.GetScheme()), kreplay.WithCacheReader(mgr.GetCache())))
	if err != nil {
		os.Exit(1)
	}
	ctx := ctrl.SetupSignalHandler()
	informer, err := mgr.GetCache().GetInformer(ctx, &appsv1.Deployment{})
	if err != nil {
		os.Exit(1)
	}
	if _, err := informer.AddEventHandler(kreplay.WrapEventHandler("web", appsv1.SchemeGroupVersion.WithKind("Deployment"),
		cache.ResourceEventHandlerFuncs{}, rep)); err != nil {
		os.Exit(1)
	}
	err = mgr.Start(ctx)
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = rep.Close(closeCtx)
	cancel()
	if err != nil {
		os.Exit(1)
	}
}
