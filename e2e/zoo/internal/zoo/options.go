package zoo

import "sigs.k8s.io/controller-runtime/pkg/handler"

// Option changes how RunWidgetController (and NewManager) set a controller up, for the controllers whose pitfall
// lives in the setup rather than in the reconcile.
type Option func(*setup)

type setup struct {
	widgetHandler           handler.EventHandler
	maxConcurrentReconciles int
	allNamespaces           bool
}

func setupOf(opts []Option) setup {
	var s setup
	for _, opt := range opts {
		opt(&s)
	}
	return s
}

// WithWidgetHandler queues Widgets through h (Watches) instead of For's EnqueueRequestForObject.
func WithWidgetHandler(h handler.EventHandler) Option { return func(s *setup) { s.widgetHandler = h } }

// WithMaxConcurrentReconciles runs n workers instead of controller-runtime's one.
func WithMaxConcurrentReconciles(n int) Option {
	return func(s *setup) { s.maxConcurrentReconciles = n }
}

// WithAllNamespaces leaves the manager's cache unrestricted: it lists and watches every namespace.
func WithAllNamespaces() Option { return func(s *setup) { s.allNamespaces = true } }
