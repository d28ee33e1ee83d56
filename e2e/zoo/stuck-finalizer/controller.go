// Package stuckfinalizer plants pitfall 2: a finalizer is added so that an external resource can be cleaned up
// before the Widget goes, but the cleanup keeps failing and the controller only ever retries it: the Widget stays
// Terminating forever (`stuck-finalizer`). The rest is the healthy controller.
package stuckfinalizer

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
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
		if !controllerutil.ContainsFinalizer(&w, widget.Finalizer) {
			return ctrl.Result{}, nil
		}
		// The pitfall: no way out. A failing cleanup is retried (with backoff) for ever, and nobody is told.
		if err := deleteExternalBackup(&w); err != nil {
			return ctrl.Result{}, fmt.Errorf("cleanup of %s: %w", req.NamespacedName, err)
		}
		controllerutil.RemoveFinalizer(&w, widget.Finalizer)
		return ctrl.Result{}, r.Update(ctx, &w)
	}
	if controllerutil.AddFinalizer(&w, widget.Finalizer) {
		if err := r.Update(ctx, &w); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := zoo.EnsureChild(ctx, r.Client, &w); err != nil {
		return ctrl.Result{}, err
	}
	next := zoo.ReadyStatus(w.Status, w.Generation, w.Spec.Size)
	if equality.Semantic.DeepEqual(next, w.Status) {
		return ctrl.Result{}, nil
	}
	w.Status = next
	return ctrl.Result{}, r.Status().Update(ctx, &w)
}

func Run(ctx context.Context, env zoo.Env) error {
	return zoo.RunWidgetController(ctx, env, func(_ manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c}
	})
}
