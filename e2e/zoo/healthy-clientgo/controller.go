// Package healthyclientgo is the second healthy controller, written the client-go way without controller-runtime:
// shared informers (a dynamic one for Widgets, a typed one for ConfigMaps), a rate-limited workqueue of keys, one
// worker. It keys deletions with DeletionHandlingMetaNamespaceKeyFunc, which unwraps DeletedFinalStateUnknown
// tombstones; it needs no finalizer (the garbage collector removes the child after its owner); status goes through
// UpdateStatus with the resourceVersion it read.
package healthyclientgo

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/equality"
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

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

type controller struct {
	env        zoo.Env
	dynamic    dynamic.Interface
	kube       kubernetes.Interface
	widgets    cache.GenericLister
	configMaps corelisters.ConfigMapLister
	queue      workqueue.TypedRateLimitingInterface[string]
}

func Run(ctx context.Context, env zoo.Env) error {
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
	c := &controller{
		env: env, dynamic: dc, kube: kc,
		widgets: widgets.Lister(), configMaps: configMaps.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: env.Identity()}),
	}
	defer c.queue.ShutDown()
	if _, err := widgets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return err
	}
	if _, err := configMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: func(_, obj any) { c.enqueueOwner(obj) },
		DeleteFunc: c.enqueueOwner,
	}); err != nil {
		return err
	}
	widgetInformers.Start(ctx.Done())
	kubeInformers.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), widgets.Informer().HasSynced, configMaps.Informer().HasSynced) {
		return ctx.Err()
	}
	env.Log.Info("caches synced; starting the worker", "controller", env.Identity(), "namespace", env.Namespace)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for c.processNext(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
	return nil
}

// enqueue keys any Widget event, a DeletedFinalStateUnknown tombstone included (it carries the key).
func (c *controller) enqueue(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		c.env.Log.Error(err, "cannot key object")
		return
	}
	c.queue.Add(key)
}

// enqueueOwner maps a ConfigMap event to the Widget that controls it.
func (c *controller) enqueueOwner(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
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
	if err := c.sync(ctx, key); err != nil {
		c.env.Log.Info("sync failed; requeued", "key", key, "error", err.Error())
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, err := c.widgets.ByNamespace(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil // deleted; the garbage collector takes the child
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
