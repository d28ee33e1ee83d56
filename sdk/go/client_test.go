package kreplay

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestClientWritesAreReported(t *testing.T) {
	rec := newFakeRecorder(t, nil)
	rep := NewReporter(Options{URL: rec.URL})
	base := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithStatusSubresource(&appsv1.Deployment{}).Build()
	c := WrapClient("web", base, rep)
	ctx := context.Background()

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	if err := c.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	created := d.ResourceVersion
	stale := d.DeepCopy()
	d.Spec.Paused = true
	if err := c.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, stale); !apierrors.IsConflict(err) {
		t.Fatalf("update with a stale RV: %v", err)
	}
	d.Status.ObservedGeneration = 2
	if err := c.Status().Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	if err := c.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dry"}}, client.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAllOf(ctx, &appsv1.Deployment{}, client.InNamespace("other")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(d), &appsv1.Deployment{}); !apierrors.IsNotFound(err) { // reads are not reported
		t.Fatal(err)
	}
	_ = rep.Close(ctx)

	type row struct {
		verb, name, sub string
		code            float64
		reason          any
		before, after   any
	}
	want := []row{
		{"create", "web", "", 201, nil, nil, created},
		{"update", "web", "", 200, nil, created, "?"},
		{"update", "web", "", 409, "Conflict", created, nil},
		{"update", "web", "status", 200, nil, "?", "?"},
		{"create", "web", "", 409, "AlreadyExists", nil, nil},
		{"deletecollection", "*", "", 200, nil, nil, nil},
		{"delete", "web", "", 200, nil, "?", nil},
	}
	records := rec.accepted(t)
	if len(records) != len(want) {
		t.Fatalf("%d records, want %d (dry runs and reads are not reported): %v", len(records), len(want), records)
	}
	for i, w := range want {
		r := records[i]
		checkRecord(t, r)
		obj := r["object"].(map[string]any)
		sub, _ := r["subresource"].(string)
		if r["verb"] != w.verb || obj["name"] != w.name || sub != w.sub || r["code"] != w.code || r["reason"] != w.reason ||
			r["actor"] != "web" || r["byController"] != true || obj["kind"] != "Deployment" || obj["group"] != "apps" {
			t.Errorf("record %d = %v, want %+v", i, r, w)
		}
		for key, want := range map[string]any{"resourceVersionBefore": w.before, "resourceVersionAfter": w.after} {
			got, has := r[key]
			if want == "?" {
				if !has || got == "" {
					t.Errorf("record %d: %s missing", i, key)
				}
			} else if got != want {
				t.Errorf("record %d: %s = %v, want %v", i, key, got, want)
			}
		}
	}
}

func TestDisabledClientIsTheClient(t *testing.T) {
	base := fake.NewClientBuilder().Build()
	if WrapClient("web", base, nil) != base {
		t.Error("a disabled reporter must return the client itself")
	}
}
