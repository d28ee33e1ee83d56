// Package resumefromnow plants the second half of pitfall 9: a hand-rolled list/watch loop (internal/handrolled)
// that, when its watch ends, LISTs only to learn the current resourceVersion, ignores the items and watches from
// there. Whatever happened while it was away is never handed to its handlers: a Widget created meanwhile first
// arrives as an update, a Widget deleted meanwhile is never deleted (`lost-event`, handler-unseen-object and
// handler-missed-delete). client-go's reflector resumes from the newest resourceVersion it saw, and when it must
// relist it hands every difference over (DeltaFIFO.Replace: adds, updates, DeletedFinalStateUnknown tombstones).
package resumefromnow

import (
	"context"

	"kreplay/e2e/zoo/internal/handrolled"
	"kreplay/e2e/zoo/internal/zoo"
)

// fromNow is the pitfall: a fresh list's resourceVersion, its items dropped.
func fromNow(ctx context.Context, list handrolled.Lister, _, _ string) (string, error) {
	rv, _, err := list(ctx)
	return rv, err
}

func Run(ctx context.Context, env zoo.Env) error {
	return handrolled.Run(ctx, env, fromNow)
}
