// Package hotloop plants pitfall 5: every reconcile stamps status.lastSyncTime with the current time. The write
// changes the object, the change comes back through the watch and triggers the next reconcile, which stamps it
// again: the controller writes as fast as its client allows while nothing changes (`hot-loop`). The fix is to
// write status only when it differs, or to filter with predicate.GenerationChangedPredicate.
package hotloop

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

type Reconciler struct {
	client.Client
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w widget.Widget
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if err := zoo.EnsureChild(ctx, r.Client, &w); err != nil {
		return ctrl.Result{}, err
	}
	w.Status = zoo.ReadyStatus(w.Status, w.Generation, w.Spec.Size)
	// The pitfall: always a new value, so always a write, so always another event.
	w.Status.LastSyncTime = time.Now().UTC().Format(time.RFC3339Nano)
	return ctrl.Result{}, r.Status().Update(ctx, &w)
}

func Run(ctx context.Context, env zoo.Env) error {
	return zoo.RunWidgetController(ctx, env, func(_ manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c}
	})
}
