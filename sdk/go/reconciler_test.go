package kreplay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var (
	deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")
	deploymentGR  = schema.GroupResource{Group: "apps", Resource: "deployments"}
	webRequest    = reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "default", Name: "web"}}
)

// reconcileOnce runs one wrapped Reconcile returning (result, err) and gives back the record it produced.
func reconcileOnce(t *testing.T, result reconcile.Result, err error, opts ...WrapOption) map[string]any {
	t.Helper()
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	wrapped := WrapReconciler("web", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		return result, err
	}), rep, append([]WrapOption{WithObject(&appsv1.Deployment{})}, opts...)...)
	gotResult, gotErr := wrapped.Reconcile(context.Background(), webRequest)
	if gotResult != result || gotErr != err { //nolint:errorlint // the very same error must come back
		t.Fatalf("the wrapper changed the outcome: %v, %v", gotResult, gotErr)
	}
	_ = rep.Close(context.Background())
	records := rec.accepted(t)
	if len(records) != 2 {
		t.Fatalf("%d records", len(records))
	}
	start, done := records[0], records[1]
	checkRecord(t, start)
	checkRecord(t, done)
	// The start comes first and names the same call: controller, object and startedAt.
	if start["record"] != "reconcile-start" || start["startedAt"] != done["startedAt"] || start["controller"] != done["controller"] ||
		start["observedResourceVersion"] != done["observedResourceVersion"] {
		t.Errorf("start %v does not pair with %v", start, done)
	}
	return done
}

func TestReconcileResultsAndErrorReasons(t *testing.T) {
	notFound := apierrors.NewNotFound(deploymentGR, "web")
	cases := []struct {
		name       string
		result     reconcile.Result
		err        error
		wantResult string
		wantReason any
		wantAfter  any
		wantMsg    string
	}{
		{"success", reconcile.Result{}, nil, "success", nil, nil, ""},
		{"requeue", reconcile.Result{Requeue: true}, nil, "requeue", nil, nil, ""},
		{"requeue-after", reconcile.Result{RequeueAfter: 30 * time.Second}, nil, "requeue-after", nil, float64(30000), ""},
		{"requeue-after rounds up", reconcile.Result{RequeueAfter: 300 * time.Microsecond}, nil, "requeue-after", nil, float64(1), ""},
		{"NotFound", reconcile.Result{}, notFound, "error", "NotFound", nil, `deployments.apps "web" not found`},
		{"Conflict", reconcile.Result{}, apierrors.NewConflict(deploymentGR, "web", errors.New("the object has been modified")), "error", "Conflict", nil, ""},
		{"AlreadyExists", reconcile.Result{}, apierrors.NewAlreadyExists(deploymentGR, "web"), "error", "AlreadyExists", nil, ""},
		{"Timeout", reconcile.Result{}, apierrors.NewTimeoutError("slow etcd", 1), "error", "Timeout", nil, ""},
		{"ServerTimeout", reconcile.Result{}, apierrors.NewServerTimeout(deploymentGR, "update", 1), "error", "Timeout", nil, ""},
		{"client deadline", reconcile.Result{}, fmt.Errorf("get: %w", context.DeadlineExceeded), "error", "Timeout", nil, ""},
		{"Forbidden", reconcile.Result{}, apierrors.NewForbidden(deploymentGR, "web", errors.New("rbac")), "error", "Forbidden", nil, ""},
		{"Invalid", reconcile.Result{}, apierrors.NewInvalid(deploymentGVK.GroupKind(), "web", field.ErrorList{field.Required(field.NewPath("spec", "selector"), "")}), "error", "Invalid", nil, ""},
		{"BadRequest is other", reconcile.Result{}, apierrors.NewBadRequest("nope"), "error", "other", nil, ""},
		{"plain error", reconcile.Result{}, errors.New("boom"), "error", "other", nil, "boom"},
		{"wrapped Conflict", reconcile.Result{}, fmt.Errorf("updating status: %w", apierrors.NewConflict(deploymentGR, "web", errors.New("x"))), "error", "Conflict", nil, ""},
		{"terminal NotFound", reconcile.Result{}, reconcile.TerminalError(notFound), "error", "NotFound", nil, `terminal error: deployments.apps "web" not found`},
		{"result ignored with an error", reconcile.Result{RequeueAfter: time.Second}, errors.New("boom"), "error", "other", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := reconcileOnce(t, c.result, c.err)
			if got["result"] != c.wantResult || got["errorReason"] != c.wantReason || got["requeueAfterMs"] != c.wantAfter {
				t.Errorf("result %v, errorReason %v, requeueAfterMs %v", got["result"], got["errorReason"], got["requeueAfterMs"])
			}
			if c.wantMsg != "" && got["errorMessage"] != c.wantMsg {
				t.Errorf("errorMessage %q, want %q", got["errorMessage"], c.wantMsg)
			}
			obj := got["object"].(map[string]any)
			if obj["group"] != "apps" || obj["version"] != "v1" || obj["kind"] != "Deployment" || obj["namespace"] != "default" || obj["name"] != "web" {
				t.Errorf("object %v", obj)
			}
		})
	}
}

func TestTerminalErrorIsRecognised(t *testing.T) {
	if !IsTerminal(reconcile.TerminalError(errors.New("x"))) || !IsTerminal(fmt.Errorf("w: %w", reconcile.TerminalError(nil))) || IsTerminal(errors.New("x")) {
		t.Error("IsTerminal")
	}
}

func TestLongErrorMessagesAreCut(t *testing.T) {
	got := reconcileOnce(t, reconcile.Result{}, errors.New(strings.Repeat("é", 5000)))
	msg := got["errorMessage"].(string)
	if len(msg) > maxMessageBytes+4 || !strings.HasSuffix(msg, "…") || strings.ContainsRune(msg, '\uFFFD') {
		t.Errorf("message of %d bytes", len(msg))
	}
}

// stubReader is the manager's cache as far as the wrapper is concerned.
type stubReader struct {
	client.Reader
	obj      *appsv1.Deployment
	err      error
	noCopies bool
}

func (s *stubReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	s.noCopies = len(opts) == 1 && any(opts[0]) == any(client.UnsafeDisableDeepCopy)
	if s.err != nil {
		return s.err
	}
	if key.Namespace != s.obj.Namespace || key.Name != s.obj.Name {
		return apierrors.NewNotFound(deploymentGR, key.Name)
	}
	*obj.(*appsv1.Deployment) = *s.obj
	return nil
}

func TestCacheReaderGivesObservedVersion(t *testing.T) {
	reader := &stubReader{obj: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{
		Namespace: "default", Name: "web", UID: "uid-1", ResourceVersion: "4711", Generation: 3,
	}}}
	got := reconcileOnce(t, reconcile.Result{}, nil, WithCacheReader(reader))
	if got["observedResourceVersion"] != "4711" || got["observedGeneration"] != float64(3) || got["object"].(map[string]any)["uid"] != "uid-1" {
		t.Errorf("record %v", got)
	}
	// Where the option exists for Get (controller-runtime v0.22 on), the cache read must not deep-copy the object.
	if _, canSkipCopy := any(client.UnsafeDisableDeepCopy).(client.GetOption); reader.noCopies != canSkipCopy {
		t.Errorf("cache read with UnsafeDisableDeepCopy: %v, want %v", reader.noCopies, canSkipCopy)
	}

	reader.err = apierrors.NewNotFound(deploymentGR, "web") // reconciling a deletion
	got = reconcileOnce(t, reconcile.Result{}, nil, WithCacheReader(reader))
	if _, has := got["observedResourceVersion"]; has {
		t.Errorf("record %v: nothing observed for a deleted object", got)
	}
}

func TestPanickingReconcileIsReportedAndStillPanics(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	wrapped := WrapReconciler("web", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		panic("nil map")
	}), rep, WithGVK(deploymentGVK))
	func() {
		defer func() {
			if r := recover(); r != "nil map" {
				t.Errorf("recovered %v: the panic must reach controller-runtime unchanged", r)
			}
		}()
		_, _ = wrapped.Reconcile(context.Background(), webRequest)
	}()
	_ = rep.Close(context.Background())
	records := rec.accepted(t)
	if len(records) != 2 || records[1]["errorMessage"] != "reconciler panicked" || records[1]["errorReason"] != "other" {
		t.Errorf("records %v", records)
	}
}

func TestKindResolution(t *testing.T) {
	rep := NewReporter(Options{URL: "http://127.0.0.1:1"})
	defer rep.Close(context.Background())
	inner := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) { return reconcile.Result{}, nil })
	if _, same := WrapReconciler("web", inner, rep).(reconcile.Func); !same {
		t.Error("without a kind the reconciler must be returned as is")
	}
	type unknown struct{ appsv1.Deployment }
	if _, same := WrapReconciler("web", inner, rep, WithObject(&unknown{})).(reconcile.Func); !same {
		t.Error("a type the scheme does not know cannot be reported")
	}
	w := WrapReconciler("web", inner, rep, WithGVK(deploymentGVK), WithCacheReader(&stubReader{})).(*reportingReconciler)
	if w.gvk != deploymentGVK {
		t.Errorf("gvk %v", w.gvk)
	}
	if _, typed := w.proto.(*appsv1.Deployment); !typed {
		t.Errorf("the cache is read into %T; a typed object from the scheme is needed (an unstructured read would start a second informer)", w.proto)
	}
}
