// Package clientgo is the zoo's controller written the client-go way, without controller-runtime: shared informers
// (a dynamic one for Widgets, a typed one for ConfigMaps), a rate-limited workqueue of keys, one worker. It keeps
// the Widget's child ConfigMap (owned: the garbage collector removes it after the Widget) and writes status through
// UpdateStatus with the resourceVersion it read. How it handles a Widget's deletion is the caller's: the healthy one
// and the dfsu one differ only there. With $KREPLAY_INGEST_URL set it reports its reconciles and informer deliveries
// through kreplay's Go SDK.
package clientgo

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kreplay "github.com/kreplay/kreplay/sdk/go"

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

// Options are what a client-go zoo controller chooses.
type Options struct {
	// DeletedObject is what both informers' DeleteFunc do with what they are handed: the deleted object, or false
	// to drop the event. The reconcile of a deleted Widget's key releases what the controller holds for it.
	DeletedObject func(obj any) (any, bool)
	// IgnoreChildEvents: ConfigMap events do not queue their owner (many hand-written controllers only watch their
	// own kind). Then a deleted Widget's key reaches the reconcile only through the Widget's DeleteFunc.
	IgnoreChildEvents bool
}

// UnwrapTombstone is the correct DeletedObject: a delete the watch missed (seen by a relist) comes as a
// cache.DeletedFinalStateUnknown tombstone carrying the last known object.
func UnwrapTombstone(obj any) (any, bool) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tombstone.Obj, true
	}
	return obj, true
}

type controller struct {
	env zoo.Env
	rep *kreplay.Reporter
	// reservations stands for what the controller holds outside the cluster for each live Widget (capacity in some
	// external system): released when the reconcile of a deleted Widget's key runs.
	reservations map[string]int32
	dynamic      dynamic.Interface
	kube         kubernetes.Interface
	widgets      cache.GenericLister
	configMaps   corelisters.ConfigMapLister
	queue        workqueue.TypedRateLimitingInterface[string]
}

func Run(ctx context.Context, env zoo.Env, opts Options) error {
	if opts.DeletedObject == nil {
		opts.DeletedObject = UnwrapTombstone
	}
	dc, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		return err
	}
	kc, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		return err
	}
	widgetInformers := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, env.Namespace, nil)
	kubeInformers := informers.NewSharedInformerFactoryWithOptions(kc, 0, informers.WithNamespace(env.Namespace))
	widgets := widgetInformers.ForResource(widget.GVR)
	configMaps := kubeInformers.Core().V1().ConfigMaps()
	rep := kreplay.NewReporter(kreplay.Options{Logger: env.Log.WithName("kreplay")})
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rep.Close(closeCtx)
	}()
	c := &controller{
		env: env, rep: rep, reservations: map[string]int32{}, dynamic: dc, kube: kc,
		widgets: widgets.Lister(), configMaps: configMaps.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: env.Identity()}),
	}
	defer c.queue.ShutDown()
	handlers := cache.ResourceEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: func(obj any) {
			if deleted, ok := opts.DeletedObject(obj); ok {
				c.enqueue(deleted)
			}
		},
	})
	// Deliveries as the informer hands them over, tombstones marked (a no-op wrapper without an ingest URL).
	handlers = kreplay.WrapEventHandler(env.Identity(), widget.GVK, handlers, rep)
	if _, err := widgets.Informer().AddEventHandler(handlers); err != nil {
		return err
	}
	if opts.IgnoreChildEvents {
		// The informer still runs: its lister is the cache ensureChild reads.
		_, err = configMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{})
	} else {
		_, err = configMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwner,
			UpdateFunc: func(_, obj any) { c.enqueueOwner(obj) },
			DeleteFunc: func(obj any) {
				if deleted, ok := opts.DeletedObject(obj); ok {
					c.enqueueOwner(deleted)
				}
			},
		})
	}
	if err != nil {
		return err
	}
	widgetInformers.Start(ctx.Done())
	kubeInformers.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), widgets.Informer().HasSynced, configMaps.Informer().HasSynced) {
		return ctx.Err()
	}
	env.Log.Info("caches synced; starting the worker", "controller", env.Identity(), "namespace", env.Namespace, "sdk", rep.Enabled())
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for c.processNext(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
	return nil
}

// enqueue keys a Widget.
func (c *controller) enqueue(obj any) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		c.env.Log.Error(err, "cannot key object")
		return
	}
	c.queue.Add(key)
}

// enqueueOwner maps a ConfigMap to the Widget that controls it.
func (c *controller) enqueueOwner(obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	owner := metav1.GetControllerOf(cm)
	if owner == nil || owner.Kind != widget.GVK.Kind || owner.APIVersion != widget.GroupVersion.String() {
		return
	}
	c.queue.Add(cm.Namespace + "/" + owner.Name)
}

func (c *controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	started := time.Now()
	err := c.sync(ctx, key)
	c.report(key, started, err)
	if err != nil {
		c.env.Log.Info("sync failed; requeued", "key", key, "error", err.Error())
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// report sends one reconcile of key to the SDK, as WrapReconciler does for controller-runtime.
func (c *controller) report(key string, started time.Time, err error) {
	if !c.rep.Enabled() {
		return
	}
	namespace, name, _ := cache.SplitMetaNamespaceKey(key)
	rec := kreplay.Reconcile{
		Controller: c.env.Identity(),
		Object:     kreplay.ObjectRef{Group: widget.GVK.Group, Version: widget.GVK.Version, Kind: widget.GVK.Kind, Namespace: namespace, Name: name},
		Started:    started,
		Finished:   started.Add(time.Since(started)),
		Result:     reconcile.Result{},
		Err:        err,
	}
	if obj, getErr := c.widgets.ByNamespace(namespace).Get(name); getErr == nil {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			rec.ObservedResourceVersion = u.GetResourceVersion()
			rec.Object.UID = string(u.GetUID())
			if g := u.GetGeneration(); g != 0 {
				rec.ObservedGeneration = &g
			}
		}
	}
	c.rep.ReportReconcile(rec)
}

func (c *controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, err := c.widgets.ByNamespace(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		// Deleted: release what we hold for it (the garbage collector takes the child).
		if size, held := c.reservations[key]; held {
			delete(c.reservations, key)
			c.env.Log.Info("released the reservation of a deleted Widget", "key", key, "size", size)
		}
		return nil
	}
	if err != nil {
		return err
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("%s: unexpected %T in the informer", key, obj)
	}
	var w widget.Widget
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &w); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return nil
	}
	c.reservations[key] = w.Spec.Size
	if err := c.ensureChild(ctx, &w); err != nil {
		return err
	}
	next := zoo.ReadyStatus(w.Status, w.Generation, w.Spec.Size)
	if equality.Semantic.DeepEqual(next, w.Status) {
		return nil
	}
	w.Status = next
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&w)
	if err != nil {
		return err
	}
	updated := &unstructured.Unstructured{Object: content}
	updated.SetGroupVersionKind(widget.GVK)
	_, err = c.dynamic.Resource(widget.GVR).Namespace(namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return err
}

func (c *controller) ensureChild(ctx context.Context, w *widget.Widget) error {
	want := widget.DesiredChild(w)
	have, err := c.configMaps.ConfigMaps(w.Namespace).Get(want.Name)
	if apierrors.IsNotFound(err) {
		_, err = c.kube.CoreV1().ConfigMaps(w.Namespace).Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	if maps.Equal(have.Data, want.Data) {
		return nil
	}
	next := have.DeepCopy()
	next.Data = want.Data
	_, err = c.kube.CoreV1().ConfigMaps(w.Namespace).Update(ctx, next, metav1.UpdateOptions{})
	return err
}
