package kreplay

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// WrapEventHandler reports every call of an informer event handler as a `delivery` record, then calls h (which
// may be nil: the wrapper then only observes). Add it to the informer your controller uses, e.g. with
// controller-runtime:
//
//	inf, _ := mgr.GetCache().GetInformer(ctx, &appsv1.Deployment{})
//	inf.AddEventHandler(kreplay.WrapEventHandler("web", appsv1.SchemeGroupVersion.WithKind("Deployment"), nil, rep))
//
// What is reported:
//   - add, update (with the old object's resourceVersion: equal RVs mean an informer resync, not a server event)
//     and delete;
//   - tombstone: true when a delete arrives as cache.DeletedFinalStateUnknown. The informer's FIFO makes one when a
//     relist no longer contains an object it knew ("this could happen if watch deletion event was missed while
//     disconnected from apiserver": client-go tools/cache/delta_fifo.go Replace, and the_real_fifo.go for the
//     RealFIFO). The key and resourceVersion come from the last known object it wraps (or from its Key when that
//     object is nil); h still receives the tombstone itself.
//
// With a disabled Reporter h is returned unchanged (a no-op handler when h is nil).
func WrapEventHandler(controller string, gvk schema.GroupVersionKind, h cache.ResourceEventHandler, rep *Reporter) cache.ResourceEventHandler {
	if !rep.Enabled() {
		if h == nil {
			return cache.ResourceEventHandlerFuncs{}
		}
		return h
	}
	return &reportingHandler{controller: controller, gvk: gvk, inner: h, rep: rep}
}

type reportingHandler struct {
	controller string
	gvk        schema.GroupVersionKind
	inner      cache.ResourceEventHandler
	rep        *Reporter
}

func (w *reportingHandler) OnAdd(obj any, isInInitialList bool) {
	if ref, rv, ok := w.ref(obj); ok {
		w.rep.ReportDelivery(Delivery{Controller: w.controller, Handler: HandlerAdd, Object: ref, ResourceVersion: rv, At: time.Now()})
	}
	if w.inner != nil {
		w.inner.OnAdd(obj, isInInitialList)
	}
}

func (w *reportingHandler) OnUpdate(oldObj, newObj any) {
	if ref, rv, ok := w.ref(newObj); ok {
		_, oldRV, _ := w.ref(oldObj)
		w.rep.ReportDelivery(Delivery{
			Controller: w.controller, Handler: HandlerUpdate, Object: ref, ResourceVersion: rv, OldResourceVersion: oldRV, At: time.Now(),
		})
	}
	if w.inner != nil {
		w.inner.OnUpdate(oldObj, newObj)
	}
}

func (w *reportingHandler) OnDelete(obj any) {
	d := Delivery{Controller: w.controller, Handler: HandlerDelete, At: time.Now()}
	ok := false
	if tombstone, isTombstone := obj.(cache.DeletedFinalStateUnknown); isTombstone {
		d.Tombstone = true
		if d.Object, d.ResourceVersion, ok = w.ref(tombstone.Obj); !ok {
			d.Object, ok = w.refFromKey(tombstone.Key)
		}
	} else {
		d.Object, d.ResourceVersion, ok = w.ref(obj)
	}
	if ok {
		w.rep.ReportDelivery(d)
	}
	if w.inner != nil {
		w.inner.OnDelete(obj)
	}
}

func (w *reportingHandler) ref(obj any) (ObjectRef, string, bool) {
	if obj == nil {
		return ObjectRef{}, "", false
	}
	m, err := meta.Accessor(obj)
	if err != nil || m.GetName() == "" {
		return ObjectRef{}, "", false
	}
	return ObjectRefFor(w.gvk, m), m.GetResourceVersion(), true
}

func (w *reportingHandler) refFromKey(key string) (ObjectRef, bool) {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil || name == "" {
		return ObjectRef{}, false
	}
	return ObjectRef{Group: w.gvk.Group, Version: w.gvk.Version, Kind: w.gvk.Kind, Namespace: namespace, Name: name}, true
}
