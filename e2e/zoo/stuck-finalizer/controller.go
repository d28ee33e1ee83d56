// Package stuckfinalizer plants pitfall 2: a finalizer is added so that an external resource can be cleaned up
// before the Widget goes, but the cleanup keeps failing and the controller only ever retries it: the Widget stays
// Terminating forever (`stuck-finalizer`). The rest is the healthy controller.
package stuckfinalizer

import (
	"context"
	"errors"
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
}

// errBackupUnreachable stands for the external system the cleanup needs, which is never there.
var errBackupUnreachable = errors.New("backup service unreachable")

func deleteExternalBackup(*widget.Widget) error { return errBackupUnreachable }

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w widget.Widget
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		// The pitfall: no way out. A failing cleanup is retried (with backoff) for ever, and nobody is told.
		return ctrl.Result{}, zoo.Finalize(ctx, r.Client, &w, func() error {
			if err := deleteExternalBackup(&w); err != nil {
				return fmt.Errorf("cleanup of %s: %w", req.NamespacedName, err)
			}
			return nil
		})
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
