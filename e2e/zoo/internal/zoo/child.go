package zoo

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
