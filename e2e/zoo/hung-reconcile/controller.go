// Package hungreconcile plants pitfall 7: after syncing a Widget, the reconcile reports its size to a billing
// service with http.Post, i.e. http.DefaultClient: no timeout, and not the reconcile's context either (which has no
// deadline anyway: controller-runtime sets none unless ReconciliationTimeout is configured). The billing service
// answers small Widgets at once, but the request for a large one is held open and never answered, so that
// reconcile never returns (`hung-reconcile`): it holds a worker and its key for good. The controller runs two
// workers, so the other Widgets are still served. The fix: an http.Client with a Timeout, a request made with
// http.NewRequestWithContext(ctx, ...), and a deadline on the reconcile's context.
package hungreconcile

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"kreplay/e2e/zoo/internal/slowdep"
	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

// ReviewSize is the size from which the billing service's answer never comes (its slow path is down).
const ReviewSize = 10

type Reconciler struct {
	client.Client
	billingURL string
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w widget.Widget
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if err := zoo.SyncChildAndStatus(ctx, r.Client, &w); err != nil {
		return ctrl.Result{}, err
	}
	// The pitfall: the default client waits as long as the server does.
	res, err := http.Post(fmt.Sprintf("%s/usage?widget=%s&size=%d", r.billingURL, url.QueryEscape(w.Namespace+"/"+w.Name), w.Spec.Size), "text/plain", nil)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("billing: %w", err)
	}
	_ = res.Body.Close()
	return ctrl.Result{}, nil
}

func Run(ctx context.Context, env zoo.Env) error {
	billing, err := slowdep.Start(ctx, func(r *http.Request) time.Duration {
		if size, _ := strconv.Atoi(r.URL.Query().Get("size")); size >= ReviewSize {
			return -1
		}
		return 20 * time.Millisecond
	})
	if err != nil {
		return err
	}
	return zoo.RunWidgetController(ctx, env, func(_ manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c, billingURL: billing}
	}, zoo.WithMaxConcurrentReconciles(2))
}
