package kreplay

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// WrapOption configures WrapReconciler.
type WrapOption func(*wrapConfig)

type wrapConfig struct {
	gvk    schema.GroupVersionKind
	object client.Object
	scheme *runtime.Scheme
	reader client.Reader
}

// WithObject names the reconciled kind by an object of it, e.g. &appsv1.Deployment{} (the kind given to For()).
// Its GroupVersionKind is looked up in the scheme (WithScheme; client-go's scheme by default).
func WithObject(obj client.Object) WrapOption { return func(c *wrapConfig) { c.object = obj } }

// WithGVK names the reconciled kind directly.
func WithGVK(gvk schema.GroupVersionKind) WrapOption { return func(c *wrapConfig) { c.gvk = gvk } }

// WithScheme is the scheme that knows the reconciled type: pass mgr.GetScheme() for your own CRD types.
func WithScheme(s *runtime.Scheme) WrapOption { return func(c *wrapConfig) { c.scheme = s } }

// WithCacheReader makes each reconcile first read its object from reader, to report the resourceVersion,
// generation and uid it was about to act on. Pass mgr.GetCache(): the read is then an in-memory lookup in the
// informer the controller already runs (a shallow copy: client.UnsafeDisableDeepCopy, from controller-runtime v0.22
// on; the SDK only reads three metadata fields). A reader that goes to the API server adds a GET per reconcile; don't.
// The read happens just before your Reconcile's own, so a watch event landing in between (microseconds) can make
// the two differ.
func WithCacheReader(reader client.Reader) WrapOption {
	return func(c *wrapConfig) { c.reader = reader }
}

// errPanicked stands for a Reconcile that panicked: the panic itself is left to controller-runtime (not
// recovered here, so its stack trace is untouched).
var errPanicked = errors.New("reconciler panicked")

// WrapReconciler reports every Reconcile call of r as a `reconcile-start` record when it begins (unless
// Options.DisableReconcileStarts) and a `reconcile` record when it returns: the request's key, start and finish
// times, result (success | requeue | requeue-after | error), error reason and requeue delay. The kind must be given
// with WithObject or WithGVK. With a disabled Reporter, or when the kind cannot be determined (logged), r itself is
// returned: no overhead at all.
func WrapReconciler(name string, r reconcile.Reconciler, rep *Reporter, opts ...WrapOption) reconcile.Reconciler {
	if !rep.Enabled() {
		return r
	}
	var cfg wrapConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	gvk, proto, err := cfg.resolve()
	if err != nil {
		rep.log.Error(err, "reconciles of this controller will not be reported", "controller", name)
		return r
	}
	w := &reportingReconciler{name: name, inner: r, rep: rep, gvk: gvk}
	if cfg.reader != nil {
		if proto == nil {
			rep.log.Info("WithCacheReader needs WithObject (or a GVK the scheme knows): observed resourceVersions will not be reported",
				"controller", name, "gvk", gvk.String())
		} else {
			w.reader, w.proto = cfg.reader, proto
			if _, unstructured := proto.(runtime.Unstructured); !unstructured {
				if t := reflect.TypeOf(proto); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
					w.protoType = t.Elem()
				}
			}
		}
	}
	return w
}

// resolve returns the kind and, when one can be had, an empty object of it to read the cache into.
func (c *wrapConfig) resolve() (schema.GroupVersionKind, client.Object, error) {
	scheme := c.scheme
	if scheme == nil {
		scheme = clientgoscheme.Scheme
	}
	gvk := c.gvk
	if c.object != nil && gvk.Empty() {
		var err error
		if gvk, err = apiutil.GVKForObject(c.object, scheme); err != nil {
			return gvk, nil, fmt.Errorf("kind of %T: %w (pass WithScheme(mgr.GetScheme()) or WithGVK)", c.object, err)
		}
	}
	if gvk.Version == "" || gvk.Kind == "" {
		return gvk, nil, errors.New("no kind given: pass WithObject(&yourv1.Kind{}) or WithGVK")
	}
	if c.object != nil {
		return gvk, c.object, nil
	}
	if obj, err := scheme.New(gvk); err == nil {
		if cobj, ok := obj.(client.Object); ok {
			return gvk, cobj, nil
		}
	}
	return gvk, nil, nil
}

type reportingReconciler struct {
	name   string
	inner  reconcile.Reconciler
	rep    *Reporter
	gvk    schema.GroupVersionKind
	reader client.Reader
	proto  client.Object
	// protoType is the struct type behind proto for typed objects; nil for unstructured ones.
	protoType reflect.Type
}

func (w *reportingReconciler) Reconcile(ctx context.Context, req reconcile.Request) (result reconcile.Result, err error) {
	start := time.Now()
	rec := Reconcile{
		Controller: w.name,
		Object: ObjectRef{
			Group: w.gvk.Group, Version: w.gvk.Version, Kind: w.gvk.Kind,
			Namespace: req.Namespace, Name: req.Name,
		},
		Started: start,
	}
	if w.reader != nil {
		w.observe(ctx, req, &rec)
	}
	// Reported before the user's code runs: a call that never returns still shows (hung-reconcile).
	w.rep.ReportReconcileStart(ReconcileStart{
		Controller: rec.Controller, Object: rec.Object, Started: start,
		ObservedResourceVersion: rec.ObservedResourceVersion, ObservedGeneration: rec.ObservedGeneration,
	})
	returned := false
	defer func() {
		// Finished from the monotonic clock: a wall-clock step during the reconcile cannot put it before Started.
		rec.Finished = start.Add(time.Since(start))
		rec.Result, rec.Err = result, err
		if !returned {
			rec.Err = errPanicked
		}
		w.rep.ReportReconcile(rec)
	}()
	result, err = w.inner.Reconcile(ctx, req)
	returned = true
	return result, err
}

func (w *reportingReconciler) observe(ctx context.Context, req reconcile.Request, rec *Reconcile) {
	obj := w.newObject()
	// NotFound (the object is gone: the reconcile is about a deletion) and any other error leave the fields unset.
	if err := w.reader.Get(ctx, req.NamespacedName, obj, cacheGetOptions...); err != nil {
		return
	}
	rec.ObservedResourceVersion = obj.GetResourceVersion()
	rec.Object.UID = string(obj.GetUID())
	if generation := obj.GetGeneration(); generation != 0 {
		rec.ObservedGeneration = &generation
	}
}

// cacheGetOptions is client.UnsafeDisableDeepCopy where it is a GetOption (controller-runtime v0.22 on; before, a
// ListOption only, and the cache's Get deep-copies): asserted at run time so the SDK builds against both.
var cacheGetOptions = func() []client.GetOption {
	if opt, ok := any(client.UnsafeDisableDeepCopy).(client.GetOption); ok {
		return []client.GetOption{opt}
	}
	return nil
}()

// newObject returns an empty object of the reconciled type to read the cache into: a typed zero value (cheaper
// than DeepCopyObject), or for unstructured objects a copy that keeps the GVK the cache needs.
func (w *reportingReconciler) newObject() client.Object {
	if w.protoType == nil {
		return w.proto.DeepCopyObject().(client.Object)
	}
	return reflect.New(w.protoType).Interface().(client.Object)
}
