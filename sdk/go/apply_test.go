package kreplay

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// The test names Apply only through reflection, as apply.go does, so that it builds against every supported
// controller-runtime; it runs where Client.Apply exists (v0.22 on), and checks SubResourceClient.Apply where that
// exists too (v0.23 on).
func TestApplyIsReported(t *testing.T) {
	funcs := reflect.ValueOf(&interceptor.Funcs{}).Elem()
	apply, subResourceApply := funcs.FieldByName("Apply"), funcs.FieldByName("SubResourceApply")
	if !apply.IsValid() {
		if os.Getenv("KREPLAY_EXPECT_APPLY") == "1" { // compat.sh, for a release that has it
			t.Fatal("interceptor.Funcs has no Apply field, but this controller-runtime release should have Client.Apply")
		}
		t.Skip("this controller-runtime has no Client.Apply (v0.22 on)")
	}
	// The server refuses the object's apply and accepts the status apply.
	apply.Set(reflect.MakeFunc(apply.Type(), func([]reflect.Value) []reflect.Value {
		return []reflect.Value{reflect.ValueOf(apierrors.NewForbidden(deploymentGR, "api", errors.New("no")))}
	}))
	hasSubResourceApply := subResourceApply.IsValid()
	if hasSubResourceApply {
		subResourceApply.Set(reflect.MakeFunc(subResourceApply.Type(), func([]reflect.Value) []reflect.Value {
			return []reflect.Value{reflect.Zero(reflect.TypeFor[error]())}
		}))
	}
	base := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).
		WithInterceptorFuncs(funcs.Interface().(interceptor.Funcs)).Build()
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	c := WrapClient("web", base, rep)
	ctx := context.Background()

	call := func(target any, args ...any) error {
		in := []reflect.Value{reflect.ValueOf(ctx)}
		for _, a := range args {
			in = append(in, reflect.ValueOf(a))
		}
		out := reflect.ValueOf(target).MethodByName("Apply").Call(in)
		return errorOf(out[0])
	}
	if err := call(c, appsv1ac.Deployment("api", "default"), client.FieldOwner("web")); !apierrors.IsForbidden(err) {
		t.Fatalf("apply: %v, want the server's Forbidden", err)
	}
	if err := call(c, appsv1ac.Deployment("dry", "default"), client.FieldOwner("web"), client.DryRunAll); !apierrors.IsForbidden(err) {
		t.Fatalf("dry-run apply: %v", err)
	}
	type applyRecord struct {
		sub    string
		code   float64
		reason any
	}
	wants := []applyRecord{{"", 403, "Forbidden"}}
	if hasSubResourceApply {
		if err := call(c.Status(), appsv1ac.Deployment("api", "default"), client.FieldOwner("web")); err != nil {
			t.Fatalf("status apply: %v", err)
		}
		if err := call(c.SubResource("scale"), appsv1ac.Deployment("api", "default"), client.FieldOwner("web"), client.DryRunAll); err != nil {
			t.Fatalf("dry-run scale apply: %v", err)
		}
		wants = append(wants, applyRecord{"status", 200, nil})
	}
	_ = rep.Close(ctx)

	records := rec.accepted(t)
	if len(records) != len(wants) {
		t.Fatalf("%d records, want %d (dry runs are not reported): %v", len(records), len(wants), records)
	}
	for i, want := range wants {
		r := records[i]
		checkRecord(t, r)
		obj := r["object"].(map[string]any)
		sub, _ := r["subresource"].(string)
		if r["verb"] != "patch" || obj["name"] != "api" || obj["namespace"] != "default" || obj["kind"] != "Deployment" ||
			obj["group"] != "apps" || sub != want.sub || r["code"] != want.code || r["reason"] != want.reason || r["actor"] != "web" {
			t.Errorf("record %d = %v, want an apply (patch) of apps/Deployment default/api on %q, %v %v", i, r, want.sub, want.code, want.reason)
		}
	}
}
