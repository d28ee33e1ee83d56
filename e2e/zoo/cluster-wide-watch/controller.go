// Package clusterwidewatch plants pitfall 10: a controller that only ever manages Widgets in one namespace (the one
// it is deployed for, --namespace) but whose manager was built without a namespace limit on its cache
// (cache.Options.DefaultNamespaces unset). Its informers list and watch Widgets and ConfigMaps in every namespace:
// the cache holds the whole cluster's ConfigMaps, every one of them is relisted after a watch expires, and the
// controller needs cluster-wide RBAC to start (`cluster-wide-watch`). Its reconcile is the healthy one: it writes
// only in its namespace (the events from elsewhere are filtered out before they reach the queue).
package clusterwidewatch

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
	namespace string
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// Only its own namespace's Widgets are its business; the cache has everyone's.
	if req.Namespace != r.namespace {
		return ctrl.Result{}, nil
	}
	var w widget.Widget
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
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
		return &Reconciler{Client: c, namespace: env.Namespace}
	}, zoo.WithAllNamespaces())
}
