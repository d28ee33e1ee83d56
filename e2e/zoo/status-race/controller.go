// Package statusrace plants pitfall 4: the reconcile takes a copy of the Widget, does slow work (3 s of
// "provisioning"), then writes status computed from that copy with a merge patch, which carries no
// resourceVersion precondition. When the spec changed meanwhile, the status claims the old generation and size
// although the newer spec was already stored (`status-spec-race`). The next reconcile repairs it, 3 s later.
// The healthy controller's Update carries the resourceVersion it read and gets a 409 instead.
package statusrace

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

// ProvisioningTime is how long the slow part of a reconcile takes.
const ProvisioningTime = 3 * time.Second

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
	snapshot := w.DeepCopy()
	if err := zoo.EnsureChild(ctx, r.Client, snapshot); err != nil {
		return ctrl.Result{}, err
	}
	select {
	case <-time.After(ProvisioningTime):
	case <-ctx.Done():
		return ctrl.Result{}, ctx.Err()
	}
	next := zoo.ReadyStatus(snapshot.Status, snapshot.Generation, snapshot.Spec.Size)
	if equality.Semantic.DeepEqual(next, snapshot.Status) {
		return ctrl.Result{}, nil
	}
	// The pitfall: a patch from the old copy, without the optimistic lock
	// (client.MergeFromWithOptions(snapshot, client.MergeFromWithOptimisticLock{}) would have got a 409).
	patched := snapshot.DeepCopy()
	patched.Status = next
	return ctrl.Result{}, r.Status().Patch(ctx, patched, client.MergeFrom(snapshot))
}

func Run(ctx context.Context, env zoo.Env) error {
	return zoo.RunWidgetController(ctx, env, func(_ manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c}
	})
}
