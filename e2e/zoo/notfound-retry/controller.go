// Package notfoundretry plants pitfall 3: the Widget is read straight from the API server ("the cache may be
// stale") and any error, NotFound included, is returned. Once a Widget is deleted its key stays in the workqueue:
// controller-runtime requeues it with exponential backoff for ever, a GET answered 404 each time
// (`notfound-retry`). The fix is `client.IgnoreNotFound(err)`. No finalizer: the garbage collector removes the
// child ConfigMap after its owner.
package notfoundretry

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

type Reconciler struct {
	client.Client
	// Live reads go to the API server (mgr.GetAPIReader()), not to the informer's cache.
	Live client.Reader
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w widget.Widget
	if err := r.Live.Get(ctx, req.NamespacedName, &w); err != nil {
		// The pitfall: a deleted Widget is an error, so the request is retried for ever.
		return ctrl.Result{}, fmt.Errorf("reading widget %s: %w", req.NamespacedName, err)
	}
	return ctrl.Result{}, zoo.SyncChildAndStatus(ctx, r.Client, &w)
}

func Run(ctx context.Context, env zoo.Env) error {
	return zoo.RunWidgetController(ctx, env, func(mgr manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c, Live: mgr.GetAPIReader()}
	})
}
