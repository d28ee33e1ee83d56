package kreplay

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// The wire form below mirrors model/records.ts (ReconcileRecord, DeliveryRecord, ApiRequestRecord, MarkerRecord)
// field for field; testdata/golden.ndjson is checked against those zod schemas by sdk/ts/go-golden.unit.test.ts.
// Keys that the schema declares nullable but required (observedAt, object.namespace, delivery resourceVersion) are
// pointers without omitempty so that they are written as null.

// ObjectRef names the object a record is about. Group is "" for the core group; Namespace is "" for a
// cluster-scoped object. Resource (the plural, "deployments") and UID are optional.
type ObjectRef struct {
	Group     string
	Version   string
	Kind      string
	Resource  string
	Namespace string
	Name      string
	UID       string
}

// ObjectRefFor names obj as an object of the given kind.
func ObjectRefFor(gvk schema.GroupVersionKind, obj metav1.Object) ObjectRef {
	return ObjectRef{
		Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind,
		Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: string(obj.GetUID()),
	}
}

func (o ObjectRef) valid() bool { return o.Version != "" && o.Kind != "" && o.Name != "" }

// Reconcile is one Reconcile() call. Result and Err are what the reconciler returned; the reporter derives the
// record's result (success | requeue | requeue-after | error) and errorReason from them.
type Reconcile struct {
	Controller string
	Object     ObjectRef
	Started    time.Time
	Finished   time.Time
	// ObservedResourceVersion and ObservedGeneration describe the object as the reconcile read it from its cache;
	// leave them empty/nil when unknown.
	ObservedResourceVersion string
	ObservedGeneration      *int64
	Result                  reconcile.Result
	Err                     error
}

// ReconcileStart is a Reconcile() call that has begun: reported before the user's code runs, so that a call that
// never returns (a dependency without a deadline) still shows. Its finish is the Reconcile with the same
// Controller, Object and Started.
type ReconcileStart struct {
	Controller              string
	Object                  ObjectRef
	Started                 time.Time
	ObservedResourceVersion string
	ObservedGeneration      *int64
}

// Handler names an informer event handler call.
type Handler string

const (
	HandlerAdd    Handler = "add"
	HandlerUpdate Handler = "update"
	HandlerDelete Handler = "delete"
)

// Delivery is one informer event handler call (client-go cache.ResourceEventHandler).
type Delivery struct {
	Controller string
	Handler    Handler
	// Tombstone is true when a delete arrived as cache.DeletedFinalStateUnknown.
	Tombstone       bool
	Object          ObjectRef
	ResourceVersion string
	// OldResourceVersion is set for updates only; equal to ResourceVersion on an informer resync.
	OldResourceVersion string
	At                 time.Time
}

// APIRequest is one API request the controller made and its outcome.
type APIRequest struct {
	// Actor is who made the request; the SDK's client wrapper uses the controller name.
	Actor       string
	UserAgent   string
	Verb        string // create | update | patch | delete | deletecollection | get | list | watch
	Object      ObjectRef
	Subresource string
	// Code is the HTTP status; 0 when no response arrived (connection error, client-side timeout).
	Code    int
	Reason  string
	Message string
	// ResourceVersionBefore is the RV the request was based on, ResourceVersionAfter the one it produced.
	ResourceVersionBefore string
	ResourceVersionAfter  string
	At                    time.Time
}

type wireObjectRef struct {
	Group     string  `json:"group"`
	Version   string  `json:"version"`
	Resource  string  `json:"resource,omitempty"`
	Kind      string  `json:"kind"`
	Namespace *string `json:"namespace"`
	Name      string  `json:"name"`
	UID       *string `json:"uid,omitempty"`
}

type wireReconcile struct {
	Record                  string        `json:"record"`
	ObservedAt              string        `json:"observedAt"`
	Origin                  string        `json:"origin"`
	Controller              string        `json:"controller"`
	Object                  wireObjectRef `json:"object"`
	StartedAt               string        `json:"startedAt"`
	FinishedAt              string        `json:"finishedAt"`
	ObservedResourceVersion *string       `json:"observedResourceVersion,omitempty"`
	ObservedGeneration      *int64        `json:"observedGeneration,omitempty"`
	Result                  string        `json:"result"`
	ErrorReason             *string       `json:"errorReason,omitempty"`
	ErrorMessage            *string       `json:"errorMessage,omitempty"`
	RequeueAfterMs          *int64        `json:"requeueAfterMs,omitempty"`
}

type wireReconcileStart struct {
	Record                  string        `json:"record"`
	ObservedAt              string        `json:"observedAt"`
	Origin                  string        `json:"origin"`
	Controller              string        `json:"controller"`
	Object                  wireObjectRef `json:"object"`
	StartedAt               string        `json:"startedAt"`
	ObservedResourceVersion *string       `json:"observedResourceVersion,omitempty"`
	ObservedGeneration      *int64        `json:"observedGeneration,omitempty"`
}

type wireDelivery struct {
	Record             string        `json:"record"`
	ObservedAt         string        `json:"observedAt"`
	Origin             string        `json:"origin"`
	Controller         string        `json:"controller"`
	Handler            string        `json:"handler"`
	Tombstone          bool          `json:"tombstone"`
	Object             wireObjectRef `json:"object"`
	ResourceVersion    *string       `json:"resourceVersion"`
	OldResourceVersion *string       `json:"oldResourceVersion,omitempty"`
}

type wireAPIRequest struct {
	Record                string        `json:"record"`
	ObservedAt            string        `json:"observedAt"`
	Origin                string        `json:"origin"`
	Actor                 string        `json:"actor"`
	UserAgent             *string       `json:"userAgent,omitempty"`
	ByController          bool          `json:"byController"`
	Verb                  string        `json:"verb"`
	Object                wireObjectRef `json:"object"`
	Subresource           *string       `json:"subresource,omitempty"`
	Code                  int           `json:"code"`
	Reason                *string       `json:"reason,omitempty"`
	Message               *string       `json:"message,omitempty"`
	ResourceVersionBefore *string       `json:"resourceVersionBefore,omitempty"`
	ResourceVersionAfter  *string       `json:"resourceVersionAfter,omitempty"`
}

type wireMarker struct {
	Record     string `json:"record"`
	ObservedAt string `json:"observedAt"`
	Origin     string `json:"origin"`
	Marker     string `json:"marker"`
	Count      uint64 `json:"count"`
	Message    string `json:"message"`
}

const (
	origin               = "ingest"
	recordReconcileStart = "reconcile-start"
	// Error messages are cut to this many bytes: a reconcile error that embeds a whole object must not make a
	// batch too large for the recorder.
	maxMessageBytes = 2048
)

// timestamp formats t as RFC 3339 in UTC with microseconds: the precision a reconcile of a few hundred
// microseconds needs, and a form zod's iso.datetime and Date.parse both accept.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func truncate(s string) string {
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func (o ObjectRef) wire() wireObjectRef {
	return wireObjectRef{
		Group: o.Group, Version: o.Version, Resource: o.Resource, Kind: o.Kind,
		Namespace: optional(o.Namespace), Name: o.Name, UID: optional(o.UID),
	}
}

// ErrorReason classifies a reconcile error the way controller authors branch on it: by the API Status reason
// (apimachinery pkg/api/errors ReasonForError, which unwraps, so a reconcile.TerminalError wrapping a NotFound is
// NotFound). ServerTimeout and a client-side deadline count as Timeout. Returns "" for a nil error.
func ErrorReason(err error) string {
	if err == nil {
		return ""
	}
	switch apierrors.ReasonForError(err) {
	case metav1.StatusReasonNotFound:
		return "NotFound"
	case metav1.StatusReasonConflict:
		return "Conflict"
	case metav1.StatusReasonAlreadyExists:
		return "AlreadyExists"
	case metav1.StatusReasonTimeout, metav1.StatusReasonServerTimeout:
		return "Timeout"
	case metav1.StatusReasonForbidden:
		return "Forbidden"
	case metav1.StatusReasonInvalid:
		return "Invalid"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timeout"
	}
	return "other"
}

// IsTerminal reports whether err is (or wraps) a reconcile.TerminalError: controller-runtime does not requeue it.
func IsTerminal(err error) bool {
	return err != nil && errors.Is(err, reconcile.TerminalError(nil))
}

// pendingReconcile is a Reconcile waiting in the buffer. The error is classified when it is reported (errors are
// not guaranteed to stay the same); timestamps are formatted by the sender, off the Reconcile path.
type pendingReconcile struct {
	Reconcile
	failed          bool
	reason, message string
}

func (r *Reconcile) pending() *pendingReconcile {
	p := &pendingReconcile{Reconcile: *r}
	if r.Err != nil {
		p.failed, p.reason, p.message, p.Err = true, ErrorReason(r.Err), truncate(r.Err.Error()), nil
	}
	return p
}

// wire is the record as it is sent (used by tests; the sender calls encode).
func (r *Reconcile) wire() *wireReconcile { return r.pending().wire() }

func (p *pendingReconcile) encode() any { return p.wire() }
func (s *ReconcileStart) encode() any   { return s.wire() }
func (d *Delivery) encode() any         { return d.wire() }
func (a *APIRequest) encode() any       { return a.wire() }

func (p *pendingReconcile) wire() *wireReconcile {
	r := &p.Reconcile
	finished := r.Finished
	if finished.Before(r.Started) {
		finished = r.Started
	}
	w := &wireReconcile{
		Record: "reconcile", ObservedAt: timestamp(finished), Origin: origin,
		Controller: r.Controller, Object: r.Object.wire(),
		StartedAt: timestamp(r.Started), FinishedAt: timestamp(finished),
		ObservedResourceVersion: optional(r.ObservedResourceVersion), ObservedGeneration: r.ObservedGeneration,
	}
	switch {
	case p.failed:
		// controller-runtime ignores the Result when an error is returned (it logs a warning and requeues with
		// rate limiting, or not at all for a TerminalError), so the record does too.
		w.Result = "error"
		w.ErrorReason = &p.reason
		w.ErrorMessage = &p.message
	case r.Result.RequeueAfter > 0:
		w.Result = "requeue-after"
		// Rounded up: a 300µs RequeueAfter is still a delayed requeue, not an immediate one.
		ms := (r.Result.RequeueAfter + time.Millisecond - 1).Milliseconds()
		w.RequeueAfterMs = &ms
	case r.Result.Requeue: //nolint:staticcheck // deprecated in controller-runtime but still honoured by it
		w.Result = "requeue"
	default:
		w.Result = "success"
	}
	return w
}

func (s *ReconcileStart) wire() *wireReconcileStart {
	return &wireReconcileStart{
		Record: recordReconcileStart, ObservedAt: timestamp(s.Started), Origin: origin,
		Controller: s.Controller, Object: s.Object.wire(), StartedAt: timestamp(s.Started),
		ObservedResourceVersion: optional(s.ObservedResourceVersion), ObservedGeneration: s.ObservedGeneration,
	}
}

func (d *Delivery) wire() *wireDelivery {
	w := &wireDelivery{
		Record: "delivery", ObservedAt: timestamp(d.At), Origin: origin,
		Controller: d.Controller, Handler: string(d.Handler), Tombstone: d.Tombstone, Object: d.Object.wire(),
		ResourceVersion: optional(d.ResourceVersion),
	}
	if d.Handler == HandlerUpdate {
		w.OldResourceVersion = optional(d.OldResourceVersion)
	}
	return w
}

func (a *APIRequest) wire() *wireAPIRequest {
	return &wireAPIRequest{
		Record: "api", ObservedAt: timestamp(a.At), Origin: origin,
		Actor: a.Actor, UserAgent: optional(a.UserAgent), ByController: true,
		Verb: strings.ToLower(a.Verb), Object: a.Object.wire(), Subresource: optional(a.Subresource),
		Code: a.Code, Reason: optional(a.Reason), Message: optional(truncate(a.Message)),
		ResourceVersionBefore: optional(a.ResourceVersionBefore), ResourceVersionAfter: optional(a.ResourceVersionAfter),
	}
}
