// Package healthyclientgo is the second healthy controller, written the client-go way without controller-runtime
// (internal/clientgo: informers, a workqueue, one worker). Its DeleteFuncs unwrap DeletedFinalStateUnknown
// tombstones, so a delete the watch missed still reaches the reconcile that releases what the controller held for
// the Widget.
package healthyclientgo

import (
	"context"

	"kreplay/e2e/zoo/internal/clientgo"
	"kreplay/e2e/zoo/internal/zoo"
)

func Run(ctx context.Context, env zoo.Env) error {
	return clientgo.Run(ctx, env, clientgo.Options{DeletedObject: clientgo.UnwrapTombstone})
}
