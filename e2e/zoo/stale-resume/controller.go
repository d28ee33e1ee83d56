// Package staleresume plants the first half of pitfall 9: a hand-rolled list/watch loop (internal/handrolled) that,
// when its watch ends, watches again from the resourceVersion of its initial LIST, the one it kept. The server
// replays every event since then (they are all still in its watch cache after a plain disconnect), and the
// handlers are handed the whole history again: creations, older versions as updates, deletions of objects long
// gone (`duplicate-event`, handler-redelivered). client-go's reflector resumes from the newest resourceVersion it
// saw instead (tools/cache/reflector.go rewatchResourceVersion).
package staleresume

import (
	"context"

	"kreplay/e2e/zoo/internal/handrolled"
	"kreplay/e2e/zoo/internal/zoo"
)

// fromInitialList is the pitfall: the resourceVersion to resume from is the list's, kept since the start.
func fromInitialList(_ context.Context, _ handrolled.Lister, listRV, _ string) (string, error) {
	return listRV, nil
}

func Run(ctx context.Context, env zoo.Env) error {
	return handrolled.Run(ctx, env, fromInitialList)
}
