package kreplay

import (
	"context"
	"errors"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// WrapClient reports the writes made through c (Create, Update, Patch, Apply (controller-runtime v0.22 on: apply.go),
// Delete, and the same on Status() and SubResource(name)) and DeleteAllOf as `api` records with actor = controller and byController = true: verb,
// object, status code and reason, and the resourceVersion before and after. As in docs/format.md, the object name
// is "*" for a deletecollection and for a failed create whose name the server was to generate. Reads and dry-run
// requests are not reported. Give the wrapped client to your reconciler:
//
//	r := &WebReconciler{Client: kreplay.WrapClient("web", mgr.GetClient(), rep)}
//
// If the recorder also receives the API server's audit events, it stores each write once: the audit event (the
// server's view) with this report's controller name merged in (docs/recorder.md, "One write, one record"). With a
// disabled Reporter c is returned unchanged.
func WrapClient(controller string, c client.Client, rep *Reporter) client.Client {
	if !rep.Enabled() {
		return c
	}
	w := &apiReporter{actor: controller, typer: c, rep: rep}
	return &reportingClient{Client: interceptApply(c, w), w: w}
}

// collectionName names the target of a request on a collection (docs/format.md, api.object).
const collectionName = "*"

type reportingClient struct {
	client.Client
	w *apiReporter
}

type apiReporter struct {
	actor string
	typer interface {
		GroupVersionKindFor(obj runtime.Object) (schema.GroupVersionKind, error)
	}
	rep *Reporter
}

func (c *reportingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	before := obj.GetResourceVersion()
	err := c.Client.Create(ctx, obj, opts...)
	if len((&client.CreateOptions{}).ApplyOptions(opts).DryRun) == 0 {
		c.w.report("create", "", obj, before, http.StatusCreated, err)
	}
	return err
}

func (c *reportingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	before := obj.GetResourceVersion()
	err := c.Client.Update(ctx, obj, opts...)
	if len((&client.UpdateOptions{}).ApplyOptions(opts).DryRun) == 0 {
		c.w.report("update", "", obj, before, http.StatusOK, err)
	}
	return err
}

func (c *reportingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	before := obj.GetResourceVersion()
	err := c.Client.Patch(ctx, obj, patch, opts...)
	if len((&client.PatchOptions{}).ApplyOptions(opts).DryRun) == 0 {
		c.w.report("patch", "", obj, before, http.StatusOK, err)
	}
	return err
}

func (c *reportingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	before := obj.GetResourceVersion()
	err := c.Client.Delete(ctx, obj, opts...)
	if len((&client.DeleteOptions{}).ApplyOptions(opts).DryRun) == 0 {
		// The client does not decode the response into obj: there is no "after" RV to report.
		c.w.report("delete", "", obj, before, http.StatusOK, err)
	}
	return err
}

func (c *reportingClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	err := c.Client.DeleteAllOf(ctx, obj, opts...)
	options := (&client.DeleteAllOfOptions{}).ApplyOptions(opts)
	if len(options.DryRun) == 0 {
		collection := obj.DeepCopyObject().(client.Object)
		collection.SetName(collectionName)
		collection.SetNamespace(options.Namespace)
		c.w.report("deletecollection", "", collection, "", http.StatusOK, err)
	}
	return err
}

func (c *reportingClient) Status() client.SubResourceWriter {
	return &reportingSubResource{SubResourceClient: subResourceOnlyWriter{c.Client.Status()}, name: "status", w: c.w}
}

func (c *reportingClient) SubResource(name string) client.SubResourceClient {
	return &reportingSubResource{SubResourceClient: c.Client.SubResource(name), name: name, w: c.w}
}

// subResourceOnlyWriter lets Status()'s writer share reportingSubResource; Get is never reachable through the
// client.SubResourceWriter that Status() returns.
type subResourceOnlyWriter struct{ client.SubResourceWriter }

func (subResourceOnlyWriter) Get(context.Context, client.Object, client.Object, ...client.SubResourceGetOption) error {
	return errors.New("kreplay: Get on a status writer")
}

type reportingSubResource struct {
	client.SubResourceClient
	name string
	w    *apiReporter
}

func (s *reportingSubResource) Create(ctx context.Context, obj client.Object, sub client.Object, opts ...client.SubResourceCreateOption) error {
	before := obj.GetResourceVersion()
	err := s.SubResourceClient.Create(ctx, obj, sub, opts...)
	if len((&client.SubResourceCreateOptions{}).ApplyOptions(opts).DryRun) == 0 {
		s.w.report("create", s.name, obj, before, http.StatusCreated, err)
	}
	return err
}

func (s *reportingSubResource) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	before := obj.GetResourceVersion()
	err := s.SubResourceClient.Update(ctx, obj, opts...)
	if len((&client.SubResourceUpdateOptions{}).ApplyOptions(opts).DryRun) == 0 {
		s.w.report("update", s.name, obj, before, http.StatusOK, err)
	}
	return err
}

func (s *reportingSubResource) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	before := obj.GetResourceVersion()
	err := s.SubResourceClient.Patch(ctx, obj, patch, opts...)
	if len((&client.SubResourcePatchOptions{}).ApplyOptions(opts).DryRun) == 0 {
		s.w.report("patch", s.name, obj, before, http.StatusOK, err)
	}
	return err
}

func (w *apiReporter) report(verb, subresource string, obj client.Object, before string, okCode int, err error) {
	gvk, gerr := w.typer.GroupVersionKindFor(obj)
	if gerr != nil {
		return
	}
	a := APIRequest{
		Actor: w.actor, Verb: verb, Object: ObjectRefFor(gvk, obj), Subresource: subresource,
		ResourceVersionBefore: before, At: time.Now(),
	}
	if a.Object.Name == "" { // generateName, and the server did not get to generate one
		a.Object.Name = collectionName
	}
	w.outcome(&a, okCode, err)
	if err == nil && verb != "delete" {
		a.ResourceVersionAfter = obj.GetResourceVersion()
	}
	w.rep.ReportAPIRequest(a)
}

// applyConfiguration is what the generated apply configurations (k8s.io/client-go/applyconfigurations) expose.
type applyConfiguration interface {
	GetName() *string
	GetNamespace() *string
	GetKind() *string
	GetAPIVersion() *string
}

func (w *apiReporter) reportApply(subresource string, obj any, err error) {
	ac, ok := obj.(applyConfiguration)
	if !ok || ac.GetName() == nil || ac.GetKind() == nil || ac.GetAPIVersion() == nil {
		return
	}
	gv, perr := schema.ParseGroupVersion(*ac.GetAPIVersion())
	if perr != nil {
		return
	}
	a := APIRequest{
		Actor: w.actor, Verb: "patch", Subresource: subresource, At: time.Now(),
		Object: ObjectRef{Group: gv.Group, Version: gv.Version, Kind: *ac.GetKind(), Name: *ac.GetName()},
	}
	if ns := ac.GetNamespace(); ns != nil {
		a.Object.Namespace = *ns
	}
	w.outcome(&a, http.StatusOK, err)
	w.rep.ReportAPIRequest(a)
}

func (w *apiReporter) outcome(a *APIRequest, okCode int, err error) {
	if err == nil {
		a.Code = okCode
		return
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		a.Code, a.Reason, a.Message = int(s.Code), string(s.Reason), s.Message
		return
	}
	// No response from the server (connection refused, client-side timeout, webhook-less validation error).
	a.Code, a.Message = 0, err.Error()
}
