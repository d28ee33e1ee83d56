// Package zoo is what every zoo controller shares: who it is to the API server, and a controller-runtime manager
// (optionally reporting through kreplay's Go SDK) confined to the namespace it is given.
package zoo

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kreplay "github.com/kreplay/kreplay/sdk/go"

	"kreplay/e2e/zoo/internal/widget"
)

// Env is one controller's run: its name (the subcommand), the namespace it manages and its API connection.
type Env struct {
	Name      string
	Namespace string
	Config    *rest.Config
	Log       logr.Logger
}

// Identity is the name a zoo controller has everywhere kreplay looks: the user it impersonates (audit
// `impersonatedUser`), its field manager (the User-Agent's product, apiserver `prefixFromUserAgent`) and the
// controller name it reports under through the SDK. `kreplay check --controller zoo-<name>` names it.
func (e Env) Identity() string { return "zoo-" + e.Name }

// RestConfig connects with the admin kubeconfig but acts as the controller's own user: the control plane's token
// file is fixed when it starts, while impersonation (allowed for system:masters) gives every controller a distinct
// name in the audit log without restarting anything.
func RestConfig(kubeconfig, name string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	identity := "zoo-" + name
	cfg.UserAgent = identity + "/v0.1 (kreplay zoo)"
	cfg.Impersonate = rest.ImpersonationConfig{UserName: identity, Groups: []string{"system:masters", "system:authenticated"}}
	// What ctrl.GetConfig sets: client-go's default of 5 QPS would pace a hot loop for it.
	cfg.QPS, cfg.Burst = 20, 30
	return cfg, nil
}

// NewManager is a manager for one namespace (unless an option says otherwise): no leader election, metrics or
// health endpoints (nothing to collide with on a shared machine), Widget known to its scheme.
func NewManager(env Env, opts ...Option) (manager.Manager, error) {
	s := setupOf(opts)
	options := ctrl.Options{
		Scheme:                 widget.NewScheme(),
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{env.Namespace: {}}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		Logger:                 env.Log,
	}
	if s.allNamespaces {
		options.Cache = cache.Options{}
	}
	return ctrl.NewManager(env.Config, options)
}

// ReconcilerFactory builds a controller's reconciler from its manager and the client it should write through (the
// manager's, wrapped by the SDK when reporting is on).
type ReconcilerFactory func(mgr manager.Manager, c client.Client) reconcile.Reconciler

// RunWidgetController runs a controller-runtime controller For Widgets, Owning ConfigMaps, until ctx ends. With
// $KREPLAY_INGEST_URL set, it reports its reconciles, informer deliveries and writes through kreplay's Go SDK.
func RunWidgetController(ctx context.Context, env Env, build ReconcilerFactory, opts ...Option) error {
	s := setupOf(opts)
	mgr, err := NewManager(env, opts...)
	if err != nil {
		return err
	}
	rep := kreplay.NewReporter(kreplay.Options{Logger: env.Log.WithName("kreplay")})
	identity := env.Identity()
	r := build(mgr, kreplay.WrapClient(identity, mgr.GetClient(), rep))
	b := ctrl.NewControllerManagedBy(mgr).Named(identity)
	if s.widgetHandler != nil {
		// Owns() needs For(); this is what it does.
		b = b.Watches(&widget.Widget{}, s.widgetHandler).
			Watches(&corev1.ConfigMap{}, handler.EnqueueRequestForOwner(mgr.GetScheme(), mgr.GetRESTMapper(), &widget.Widget{}, handler.OnlyControllerOwner()))
	} else {
		b = b.For(&widget.Widget{}).Owns(&corev1.ConfigMap{})
	}
	if s.maxConcurrentReconciles > 0 {
		b = b.WithOptions(controller.Options{MaxConcurrentReconciles: s.maxConcurrentReconciles})
	}
	err = b.Complete(kreplay.WrapReconciler(identity, r, rep,
		kreplay.WithObject(&widget.Widget{}), kreplay.WithScheme(mgr.GetScheme()), kreplay.WithCacheReader(mgr.GetCache())))
	if err != nil {
		return err
	}
	if rep.Enabled() {
		informer, err := mgr.GetCache().GetInformer(ctx, &widget.Widget{})
		if err != nil {
			return err
		}
		if _, err := informer.AddEventHandler(kreplay.WrapEventHandler(identity, widget.GVK, toolscache.ResourceEventHandlerFuncs{}, rep)); err != nil {
			return err
		}
	}
	env.Log.Info("starting", "controller", identity, "namespace", env.Namespace, "sdk", rep.Enabled())
	err = mgr.Start(ctx)
	closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rep.Close(closeCtx)
	stats := rep.Stats()
	env.Log.Info("stopped", "sdkSent", stats.Sent, "sdkDropped", stats.Dropped)
	return err
}
