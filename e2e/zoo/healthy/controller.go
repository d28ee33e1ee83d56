// Package healthy is the zoo's controller that does everything right, so its recording must stay silent: a
// finalizer added before anything is created and removed once cleanup succeeded, a child ConfigMap owned by the
// Widget, status written with observedGeneration through an Update that carries the resourceVersion it read (a
// concurrent change makes it fail with 409 and retry on fresh data), NotFound ignored.
package healthy

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
		// Deleted: nothing left to do (the child went with the finalizer, or goes with the garbage collector).
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		child := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: widget.ChildName(w.Name), Namespace: w.Namespace}}
		return ctrl.Result{}, zoo.Finalize(ctx, r.Client, &w, func() error { return client.IgnoreNotFound(r.Delete(ctx, child)) })
	}
	if err := zoo.AddFinalizer(ctx, r.Client, &w); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, zoo.SyncChildAndStatus(ctx, r.Client, &w)
}

func Run(ctx context.Context, env zoo.Env) error {
	return zoo.RunWidgetController(ctx, env, func(_ manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c}
	})
}
