package kreplay

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// testdata/golden.ndjson holds one line of every shape the SDK emits. This test keeps it equal to what the code
// writes (UPDATE_GOLDEN=1 go test -run TestGolden rewrites it); sdk/ts/go-golden.unit.test.ts parses the same file
// with the zod schemas of model/records.ts, so a drift on either side fails a test.
func TestGoldenLines(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	generation := int64(3)
	cluster := ObjectRef{Group: "", Version: "v1", Kind: "Namespace", Name: "ops"}
	records := []any{
		(&Reconcile{Controller: "web", Object: deployment, Started: at, Finished: at.Add(1500 * time.Microsecond)}).wire(),
		(&Reconcile{Controller: "web", Object: ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "default", Name: "web", UID: "0f4c"},
			Started: at, Finished: at.Add(time.Millisecond), ObservedResourceVersion: "4711", ObservedGeneration: &generation,
			Result: reconcile.Result{RequeueAfter: 30 * time.Second}}).wire(),
		(&Reconcile{Controller: "web", Object: cluster, Started: at, Finished: at, Result: reconcile.Result{Requeue: true}}).wire(),
		(&Reconcile{Controller: "web", Object: deployment, Started: at, Finished: at.Add(time.Millisecond),
			Err: reconcile.TerminalError(apierrors.NewConflict(deploymentGR, "web", errors.New("the object has been modified")))}).wire(),
		(&ReconcileStart{Controller: "web", Object: deployment, Started: at}).wire(),
		(&ReconcileStart{Controller: "web", Object: ObjectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "default", Name: "web", UID: "0f4c"},
			Started: at, ObservedResourceVersion: "4711", ObservedGeneration: &generation}).wire(),
		(&Delivery{Controller: "web", Handler: HandlerAdd, Object: deployment, ResourceVersion: "10", At: at}).wire(),
		(&Delivery{Controller: "web", Handler: HandlerUpdate, Object: deployment, ResourceVersion: "11", OldResourceVersion: "11", At: at}).wire(),
		(&Delivery{Controller: "web", Handler: HandlerDelete, Tombstone: true, Object: cluster, At: at}).wire(),
		(&APIRequest{Actor: "web", Verb: "update", Object: deployment, Subresource: "status", Code: 409, Reason: "Conflict",
			Message: "the object has been modified", ResourceVersionBefore: "10", At: at}).wire(),
		(&APIRequest{Actor: "web", Verb: "create", Object: deployment, Code: 201, ResourceVersionAfter: "12", At: at}).wire(),
		&wireMarker{Record: "marker", ObservedAt: timestamp(at), Origin: origin, Marker: "dropped", Count: 42, Message: "42 records dropped"},
	}
	var got bytes.Buffer
	for _, r := range records {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, decode(t, line))
		got.Write(line)
		got.WriteByte('\n')
	}
	path := filepath.Join("testdata", "golden.ndjson")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run UPDATE_GOLDEN=1 go test -run TestGolden)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("the wire form changed; if on purpose, rerun with UPDATE_GOLDEN=1 and check sdk/ts/go-golden.unit.test.ts\n got:\n%s\nwant:\n%s", got.Bytes(), want)
	}
}
