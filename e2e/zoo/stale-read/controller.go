// Package staleread plants pitfall 8, reading something other than the synced cache: the client-go event handlers
// hand the worker the object they were given, through a channel, instead of a key for the worker to look up in the
// informer's cache (the workqueue's "keys, not objects" rule, client-go util/workqueue). The worker is slow (3 s of
// provisioning per Widget), so when a Widget changes twice in a row it acts on a copy that the informer's cache had
// already replaced: the child ConfigMap is set from a spec that is no longer there, and the status write, sent with
// the old resourceVersion, fails with 409 (`stale-read`). The fix: queue the key and read the lister in the worker.
package staleread

import (
	"context"
	"fmt"
	"maps"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kreplay "github.com/kreplay/kreplay/sdk/go"

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

// ProvisioningTime is how long the worker takes for one Widget before it writes.
const ProvisioningTime = 3 * time.Second

type controller struct {
	env     zoo.Env
	rep     *kreplay.Reporter
	dynamic dynamic.Interface
	kube    kubernetes.Interface
	// work carries the objects themselves: the pitfall.
	work chan *unstructured.Unstructured
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
	rep := kreplay.NewReporter(kreplay.Options{Logger: env.Log.WithName("kreplay")})
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rep.Close(closeCtx)
	}()
	c := &controller{env: env, rep: rep, dynamic: dc, kube: kc, work: make(chan *unstructured.Unstructured, 256)}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dc, 0, env.Namespace, nil)
	widgets := factory.ForResource(widget.GVR)
	handlers := kreplay.WrapEventHandler(env.Identity(), widget.GVK, cache.ResourceEventHandlerFuncs{
		AddFunc:    c.hand,
		UpdateFunc: func(_, obj any) { c.hand(obj) },
	}, rep)
	if _, err := widgets.Informer().AddEventHandler(handlers); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), widgets.Informer().HasSynced) {
		return ctx.Err()
	}
	env.Log.Info("caches synced; starting the worker", "controller", env.Identity(), "namespace", env.Namespace, "sdk", rep.Enabled())
	for {
		select {
		case <-ctx.Done():
			return nil
		case obj := <-c.work:
			started := time.Now()
			err := c.sync(ctx, obj)
			c.report(obj, started, err)
			if err != nil {
				c.env.Log.Info("sync failed", "widget", obj.GetName(), "resourceVersion", obj.GetResourceVersion(), "error", err.Error())
			}
		}
	}
}

// hand passes the object itself on. Informer objects are shared: copied first, as client-go asks.
func (c *controller) hand(obj any) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		c.work <- u.DeepCopy()
	}
}

func (c *controller) sync(ctx context.Context, u *unstructured.Unstructured) error {
	var w widget.Widget
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &w); err != nil {
		return fmt.Errorf("%s: %w", u.GetName(), err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return nil
	}
	select {
	case <-time.After(ProvisioningTime):
	case <-ctx.Done():
		return ctx.Err()
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
	_, err = c.dynamic.Resource(widget.GVR).Namespace(w.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		// "A newer event is on its way and will write it": true, but only after another slow round on old data.
		c.env.Log.Info("status conflict; leaving it to the next event", "widget", w.Name)
		return nil
	}
	return err
}

func (c *controller) ensureChild(ctx context.Context, w *widget.Widget) error {
	want := widget.DesiredChild(w)
	configMaps := c.kube.CoreV1().ConfigMaps(w.Namespace)
	have, err := configMaps.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = configMaps.Create(ctx, want, metav1.CreateOptions{})
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
	_, err = configMaps.Update(ctx, next, metav1.UpdateOptions{})
	return err
}

// report sends the reconcile to the SDK with the version it acted on: the one it was handed.
func (c *controller) report(u *unstructured.Unstructured, started time.Time, err error) {
	if !c.rep.Enabled() {
		return
	}
	rv := u.GetResourceVersion()
	generation := u.GetGeneration()
	c.rep.ReportReconcile(kreplay.Reconcile{
		Controller: c.env.Identity(),
		Object: kreplay.ObjectRef{Group: widget.GVK.Group, Version: widget.GVK.Version, Kind: widget.GVK.Kind,
			Namespace: u.GetNamespace(), Name: u.GetName(), UID: string(u.GetUID())},
		Started: started, Finished: started.Add(time.Since(started)),
		Result: reconcile.Result{}, Err: err,
		ObservedResourceVersion: rv, ObservedGeneration: &generation,
	})
}
