// Package reconcilelag plants pitfall 6: the controller tells an inventory service about every Widget it sees, and
// does it inside the event handler, synchronously. client-go calls a handler from one goroutine per registration
// and buffers what it has not delivered yet (tools/cache/shared_informer.go, processorListener), so each 2 s call
// delays every event behind it: when Widgets arrive faster than one per 2 s, each waits longer than the one before
// for the reconcile that handles it (`reconcile-lag`), while the informer's cache is current all along. The fix is
// to only enqueue in the handler and make the call from the reconcile (or a worker of its own).
package reconcilelag

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"kreplay/e2e/zoo/internal/slowdep"
	"kreplay/e2e/zoo/internal/widget"
	"kreplay/e2e/zoo/internal/zoo"
)

// InventoryLatency is how long the inventory service takes to acknowledge one Widget.
const InventoryLatency = 2 * time.Second

type Reconciler struct {
	client.Client
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var w widget.Widget
	if err := r.Get(ctx, req.NamespacedName, &w); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !w.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, zoo.SyncChildAndStatus(ctx, r.Client, &w)
}

// inventory is the client of the inventory service; it has a timeout, the call's place is what is wrong.
type inventory struct {
	url    string
	client *http.Client
}

func (i inventory) record(obj client.Object, event string) error {
	body, _ := json.Marshal(map[string]string{"namespace": obj.GetNamespace(), "name": obj.GetName(), "event": event, "resourceVersion": obj.GetResourceVersion()})
	res, err := i.client.Post(i.url+"/widgets", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("inventory answered %d", res.StatusCode)
	}
	return nil
}

// handlerFor is the pitfall: the inventory call sits in the event handler, before the Widget is queued. Every
// creation and spec change is recorded (status writes are not news to the inventory).
func handlerFor(inv inventory, log func(error, string, ...any)) handler.EventHandler {
	enqueue := func(obj client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}})
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if err := inv.record(e.Object, "created"); err != nil {
				log(err, "inventory: recording the creation failed", "widget", e.Object.GetName())
			}
			enqueue(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectNew.GetGeneration() != e.ObjectOld.GetGeneration() {
				if err := inv.record(e.ObjectNew, "changed"); err != nil {
					log(err, "inventory: recording the change failed", "widget", e.ObjectNew.GetName())
				}
			}
			enqueue(e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(e.Object, q)
		},
	}
}

func Run(ctx context.Context, env zoo.Env) error {
	url, err := slowdep.Start(ctx, func(*http.Request) time.Duration { return InventoryLatency })
	if err != nil {
		return err
	}
	inv := inventory{url: url, client: &http.Client{Timeout: 10 * time.Second}}
	log := func(err error, msg string, kv ...any) { env.Log.Error(err, msg, kv...) }
	return zoo.RunWidgetController(ctx, env, func(_ manager.Manager, c client.Client) reconcile.Reconciler {
		return &Reconciler{Client: c}
	}, zoo.WithWidgetHandler(handlerFor(inv, log)))
}
