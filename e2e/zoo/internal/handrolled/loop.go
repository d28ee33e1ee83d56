// Package handrolled is the zoo's controller written without an informer: one hand-rolled list/watch loop over the
// namespace's Widgets (plain client-go dynamic List and Watch calls), its own map as the cache, each watch event
// handed to the event handler of its type (ADDED to OnAdd, MODIFIED to OnUpdate, DELETED to OnDelete), a workqueue and one worker that reads the Widget live and keeps its child ConfigMap
// and status. Deliveries are reported through kreplay's Go SDK (WrapEventHandler) exactly as the handlers are called.
// What the loop does when its watch ends (a disconnect) is the caller's: both zoo controllers built on it get it
// wrong, each its own way (stale-resume, resume-from-now). client-go's reflector does it right: it resumes from the
// newest resourceVersion it saw and relists only on 410 (tools/cache/reflector.go, rewatchResourceVersion).
package handrolled

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kreplay "github.com/kreplay/kreplay/sdk/go"

	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

// Lister lists the namespace's Widgets (a LIST request) and returns the list's resourceVersion and items.
type Lister func(ctx context.Context) (string, []unstructured.Unstructured, error)

// Resume is what the loop does after its watch ended without a 410: the resourceVersion it watches from next.
// listRV is the resourceVersion of the loop's last full list, lastRV the newest it was handed since.
type Resume func(ctx context.Context, list Lister, listRV, lastRV string) (string, error)

type loop struct {
	env     zoo.Env
	dynamic dynamic.Interface
	handler cache.ResourceEventHandler
	// cache is the loop's own idea of the Widgets, keyed namespace/name: an update's old object comes from it.
	cache map[string]*unstructured.Unstructured
}

// Run runs the loop and the worker until ctx ends.
func Run(ctx context.Context, env zoo.Env, resume Resume) error {
	dc, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		return err
	}
	// Live reads and writes (no cache): the worker reads the Widget as it is now, so re-delivered history never
	// turns into a write from old data.
	live, err := client.New(env.Config, client.Options{Scheme: widget.NewScheme()})
	if err != nil {
		return err
	}
	rep := kreplay.NewReporter(kreplay.Options{Logger: env.Log.WithName("kreplay")})
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rep.Close(closeCtx)
	}()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: env.Identity()})
	defer queue.ShutDown()
	// A short delay folds a burst of events for one key (a re-sent history) into one live read.
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			queue.AddAfter(key, 200*time.Millisecond)
		}
	}
	l := &loop{
		env: env, dynamic: dc, cache: map[string]*unstructured.Unstructured{},
		handler: kreplay.WrapEventHandler(env.Identity(), widget.GVK, cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) },
			// Nothing to release: the garbage collector takes the child.
			DeleteFunc: func(any) {},
		}, rep),
	}
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for processNext(ctx, env, live, queue) {
		}
	}, time.Second)
	return l.run(ctx, resume)
}

func (l *loop) list(ctx context.Context) (string, []unstructured.Unstructured, error) {
	list, err := l.dynamic.Resource(widget.GVR).Namespace(l.env.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", nil, err
	}
	return list.GetResourceVersion(), list.Items, nil
}

// relist replaces the cache with a fresh list, handing every Widget to OnAdd or OnUpdate and the ones gone to
// OnDelete. Only after a 410: the loop's resume decides the rest.
func (l *loop) relist(ctx context.Context) (string, error) {
	rv, items, err := l.list(ctx)
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	for i := range items {
		obj := &items[i]
		key := obj.GetNamespace() + "/" + obj.GetName()
		seen[key] = true
		l.upsert(key, obj, true)
	}
	for key, obj := range l.cache {
		if !seen[key] {
			delete(l.cache, key)
			l.handler.OnDelete(obj)
		}
	}
	return rv, nil
}

func (l *loop) upsert(key string, obj *unstructured.Unstructured, initial bool) {
	old, known := l.cache[key]
	l.cache[key] = obj
	if known {
		l.handler.OnUpdate(old, obj)
	} else {
		l.handler.OnAdd(obj, initial)
	}
}

func (l *loop) run(ctx context.Context, resume Resume) error {
	var listRV string
	for {
		var err error
		if listRV, err = l.relist(ctx); err == nil {
			break
		}
		if !sleep(ctx, time.Second) {
			return nil
		}
	}
	l.env.Log.Info("listed; starting the worker", "controller", l.env.Identity(), "namespace", l.env.Namespace, "resourceVersion", listRV)
	from, lastRV := listRV, listRV
	for ctx.Err() == nil {
		w, err := l.dynamic.Resource(widget.GVR).Namespace(l.env.Namespace).Watch(ctx, metav1.ListOptions{ResourceVersion: from})
		if err != nil {
			// Cut off: the watch cannot start. The loop treats it as a watch that ended, after a pause.
			l.env.Log.Info("watch failed", "error", err.Error())
			if !sleep(ctx, time.Second) {
				return nil
			}
		} else {
			var gone bool
			lastRV, gone = l.consume(w, lastRV)
			if ctx.Err() != nil {
				return nil
			}
			if gone {
				if rv, err := l.relist(ctx); err == nil {
					listRV, from, lastRV = rv, rv, rv
				}
				continue
			}
		}
		for {
			next, err := resume(ctx, l.list, listRV, lastRV)
			if err == nil {
				l.env.Log.Info("watch ended; resuming", "from", next, "listRV", listRV, "lastRV", lastRV)
				from = next
				break
			}
			l.env.Log.Info("resume failed; retrying", "error", err.Error())
			if !sleep(ctx, time.Second) {
				return nil
			}
		}
	}
	return nil
}

// consume hands each event of one watch to the handlers until it ends; gone: it ended with 410 (or Expired).
func (l *loop) consume(w watch.Interface, lastRV string) (string, bool) {
	defer w.Stop()
	gone := false
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Added, watch.Modified, watch.Deleted:
			obj, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			key := obj.GetNamespace() + "/" + obj.GetName()
			lastRV = obj.GetResourceVersion()
			// Each event to the handler of its type, as the loop's authors read the watch API: the old object of an
			// update from the map, none when the loop never had it (an informer would call OnAdd then).
			switch ev.Type {
			case watch.Added:
				l.cache[key] = obj
				l.handler.OnAdd(obj, false)
			case watch.Modified:
				var old any
				if known, ok := l.cache[key]; ok {
					old = known
				}
				l.cache[key] = obj
				l.handler.OnUpdate(old, obj)
			default:
				delete(l.cache, key)
				l.handler.OnDelete(obj)
			}
		case watch.Error:
			status := apierrors.FromObject(ev.Object)
			gone = gone || apierrors.IsResourceExpired(status) || apierrors.IsGone(status)
			l.env.Log.Info("watch error", "error", status.Error())
		}
	}
	return lastRV, gone
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func processNext(ctx context.Context, env zoo.Env, c client.Client, queue workqueue.TypedRateLimitingInterface[string]) bool {
	key, shutdown := queue.Get()
	if shutdown {
		return false
	}
	defer queue.Done(key)
	if err := sync(ctx, c, key); err != nil {
		env.Log.Info("sync failed; requeued", "key", key, "error", err.Error())
		queue.AddRateLimited(key)
		return true
	}
	queue.Forget(key)
	return true
}

func sync(ctx context.Context, c client.Client, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	var w widget.Widget
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &w); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return nil
	}
	return zoo.SyncChildAndStatus(ctx, c, &w)
}
