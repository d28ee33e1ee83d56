// Package kreplay reports a Kubernetes controller's reconcile outcomes, informer deliveries and API writes to the
// kreplay recorder's ingest endpoint, so that `kreplay replay` can show what the controller saw and did next to
// what the API server sent.
//
// Wiring into a controller-runtime manager:
//
//	rep := kreplay.NewReporter(kreplay.Options{}) // KREPLAY_INGEST_URL, KREPLAY_INGEST_TOKEN; disabled when unset
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//		defer cancel()
//		_ = rep.Close(ctx) // after mgr.Start returns: sends what is still buffered
//	}()
//	err := ctrl.NewControllerManagedBy(mgr).For(&appsv1.Deployment{}).
//		Complete(kreplay.WrapReconciler("web", &WebReconciler{Client: kreplay.WrapClient("web", mgr.GetClient(), rep)}, rep,
//			kreplay.WithObject(&appsv1.Deployment{}), kreplay.WithCacheReader(mgr.GetCache())))
//
// Guarantees: reporting never blocks the controller and never returns an error to it. Records go through a bounded
// buffer to one background goroutine that posts NDJSON batches (at most 500 records or 250 ms apart); when the
// recorder is slow or down, records beyond the buffer are dropped and counted (Reporter.Stats; the count is also
// offered to the recorder as a `dropped` marker, which the current ingest server refuses, after which the SDK stops
// offering it). With no URL configured every wrapper returns what it was given.
//
// The records are exactly the `reconcile`, `reconcile-start`, `delivery` and `api` records of kreplay's
// model/records.ts, with origin "ingest", one JSON object per line (docs/format.md).
package kreplay
