// Package dfsu plants pitfall 1: the client-go controller's DeleteFunc type-asserts the object it is given and
// silently drops anything else. When the watch misses a delete (disconnected, then a 410 and a relist), client-go's
// DeltaFIFO.Replace hands the deleted Widget to OnDelete as a cache.DeletedFinalStateUnknown tombstone
// (tools/cache/delta_fifo.go), the assertion fails, the key is never queued and the reservation the controller held
// for the Widget is never released (`dfsu-gap`). It does not queue a Widget for its child ConfigMap's events (the
// child's own deletion by the garbage collector, often seen after the reconnect, would otherwise reach the same
// reconcile by chance). The rest is healthy-clientgo.
package dfsu

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"kreplay/e2e/zoo/internal/clientgo"
	"kreplay/e2e/zoo/internal/zoo"
)

// typeAsserted is the pitfall: what is not a Widget (or a ConfigMap) is dropped, and a
// cache.DeletedFinalStateUnknown tombstone is neither.
func typeAsserted(obj any) (any, bool) {
	switch obj.(type) {
	case *unstructured.Unstructured, *corev1.ConfigMap:
		return obj, true
	default:
		return nil, false
	}
}

func Run(ctx context.Context, env zoo.Env) error {
	return clientgo.Run(ctx, env, clientgo.Options{DeletedObject: typeAsserted, IgnoreChildEvents: true})
}
