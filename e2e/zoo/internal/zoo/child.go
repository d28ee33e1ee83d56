package zoo

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"kreplay/e2e/zoo/internal/widget"
)

// EnsureChild creates the Widget's ConfigMap, or updates it when its data is not what the spec says. The read goes
// to the cache: a missing child is created, never an error.
func EnsureChild(ctx context.Context, c client.Client, w *widget.Widget) error {
	want := widget.DesiredChild(w)
	var have corev1.ConfigMap
	err := c.Get(ctx, client.ObjectKeyFromObject(want), &have)
	if apierrors.IsNotFound(err) {
		return client.IgnoreAlreadyExists(c.Create(ctx, want))
	}
	if err != nil {
		return err
	}
	if maps.Equal(have.Data, want.Data) {
		return nil
	}
	have.Data = want.Data
	return c.Update(ctx, &have)
}

// ReadyStatus is the status a correct controller writes once the child matches generation g of the spec.
// Conditions keep their lastTransitionTime while their status does not change (meta.SetStatusCondition), so writing
// it again for the same generation changes nothing.
func ReadyStatus(current widget.Status, generation int64, size int32) widget.Status {
	next := *current.DeepCopyStatus()
	next.ObservedGeneration = generation
	next.ObservedSize = size
	meta.SetStatusCondition(&next.Conditions, metav1.Condition{
		Type: widget.ReadyCondition, Status: metav1.ConditionTrue, Reason: "ChildInSync",
		Message: "the ConfigMap holds the spec's size", ObservedGeneration: generation,
	})
	return next
}

// SyncChildAndStatus is the healthy end of every reconcile: the child matches the spec, and status says so for this
// generation, written only when it differs (a write that changes nothing would still trigger the next reconcile).
func SyncChildAndStatus(ctx context.Context, c client.Client, w *widget.Widget) error {
	if err := EnsureChild(ctx, c, w); err != nil {
		return err
	}
	next := ReadyStatus(w.Status, w.Generation, w.Spec.Size)
	if equality.Semantic.DeepEqual(next, w.Status) {
		return nil
	}
	w.Status = next
	return c.Status().Update(ctx, w)
}

// Finalize handles a Widget that is being deleted: cleanup runs while the zoo's finalizer is there, and the finalizer
// is removed once cleanup succeeded. A failing cleanup is returned (and so retried); what the controller does about
// that is the controller's business.
func Finalize(ctx context.Context, c client.Client, w *widget.Widget, cleanup func() error) error {
	if !controllerutil.ContainsFinalizer(w, widget.Finalizer) {
		return nil
	}
	if err := cleanup(); err != nil {
		return err
	}
	controllerutil.RemoveFinalizer(w, widget.Finalizer)
	// A reconcile from a cache that has not seen the removal yet finds the Widget already gone: done, not failed.
	return client.IgnoreNotFound(c.Update(ctx, w))
}

// AddFinalizer puts the zoo's finalizer on before anything is created for the Widget.
func AddFinalizer(ctx context.Context, c client.Client, w *widget.Widget) error {
	if !controllerutil.AddFinalizer(w, widget.Finalizer) {
		return nil
	}
	return c.Update(ctx, w)
}
