// Command zoo runs one of kreplay's zoo controllers: small, realistic Kubernetes controllers on one CRD (Widget),
// each planting exactly one pitfall (or none), for `npm run test:zoo` to record on the real control plane and check
// that `kreplay check` finds exactly it. One binary, one subcommand per controller, so the zoo compiles once.
//
//	zoo <controller> --kubeconfig FILE --namespace NS
//
// It runs until SIGTERM or SIGINT. With $KREPLAY_INGEST_URL set, the controller-runtime ones report through
// kreplay's Go SDK (sdk/go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"
	ctrl "sigs.k8s.io/controller-runtime"

	clusterwidewatch "kreplay/e2e/zoo/cluster-wide-watch"
	"kreplay/e2e/zoo/dfsu"
	healthy "kreplay/e2e/zoo/healthy"
	healthyclientgo "kreplay/e2e/zoo/healthy-clientgo"
	hotloop "kreplay/e2e/zoo/hot-loop"
	hungreconcile "kreplay/e2e/zoo/hung-reconcile"
	"kreplay/e2e/zoo/internal/zoo"
	notfoundretry "kreplay/e2e/zoo/notfound-retry"
	reconcilelag "kreplay/e2e/zoo/reconcile-lag"
	resumefromnow "kreplay/e2e/zoo/resume-from-now"
	staleread "kreplay/e2e/zoo/stale-read"
	staleresume "kreplay/e2e/zoo/stale-resume"
	statusrace "kreplay/e2e/zoo/status-race"
	stuckfinalizer "kreplay/e2e/zoo/stuck-finalizer"
)

var controllers = map[string]func(context.Context, zoo.Env) error{
	"dfsu":               dfsu.Run,
	"healthy":            healthy.Run,
	"healthy-clientgo":   healthyclientgo.Run,
	"stuck-finalizer":    stuckfinalizer.Run,
	"notfound-retry":     notfoundretry.Run,
	"hot-loop":           hotloop.Run,
	"status-race":        statusrace.Run,
	"reconcile-lag":      reconcilelag.Run,
	"hung-reconcile":     hungreconcile.Run,
	"stale-read":         staleread.Run,
	"cluster-wide-watch": clusterwidewatch.Run,
	"stale-resume":       staleresume.Run,
	"resume-from-now":    resumefromnow.Run,
}

func names() []string {
	out := make([]string, 0, len(controllers))
	for name := range controllers {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: zoo <controller> --kubeconfig FILE --namespace NS\ncontrollers: %v\n", names())
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		os.Exit(2)
	}
	if os.Args[1] == "list" {
		for _, name := range names() {
			fmt.Println(name)
		}
		return
	}
	name := os.Args[1]
	run, ok := controllers[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "zoo: unknown controller %q\n", name)
		usage()
		os.Exit(2)
	}
	flags := flag.NewFlagSet(name, flag.ExitOnError)
	kubeconfig := flags.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file (an admin one: the controller impersonates zoo-<name>)")
	namespace := flags.String("namespace", "", "the one namespace the controller manages")
	verbosity := flags.Int("v", 0, "log verbosity")
	_ = flags.Parse(os.Args[2:])
	if *namespace == "" || *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "zoo: --namespace and --kubeconfig are required")
		os.Exit(2)
	}

	log := textlogger.NewLogger(textlogger.NewConfig(textlogger.Verbosity(*verbosity))).WithName("zoo-" + name)
	ctrl.SetLogger(log)
	klog.SetLogger(log)
	cfg, err := zoo.RestConfig(*kubeconfig, name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zoo:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	err = run(ctx, zoo.Env{Name: name, Namespace: *namespace, Config: cfg, Log: log})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error(err, "controller failed")
		os.Exit(1)
	}
}
