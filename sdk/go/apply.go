package kreplay

import (
	"context"
	"errors"
	"reflect"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// Client.Apply (v0.22 on) and SubResourceClient.Apply (v0.23 on), server-side apply of an apply configuration, are
// newer than the oldest controller-runtime the SDK builds against (sdk/README.md, supported versions), so no code
// here may name their types (client.ApplyOption, runtime.ApplyConfiguration). Instead WrapClient routes the client
// through controller-runtime's own interceptor and fills its Funcs.Apply and Funcs.SubResourceApply fields, which
// exist exactly when the methods do, by reflection: one build that reports Apply where there is one, with no build
// tag for the user to get right. Only the Apply calls go through reflection; every other call is a plain
// pass-through of the interceptor (pkg/client/interceptor/intercept.go).

// interceptApply returns c with its Apply calls reported through w, or c itself when this controller-runtime has
// no Apply.
func interceptApply(c client.Client, w *apiReporter) client.Client {
	funcs := reflect.ValueOf(&interceptor.Funcs{}).Elem()
	apply, subResourceApply := funcs.FieldByName("Apply"), funcs.FieldByName("SubResourceApply")
	if !apply.IsValid() && !subResourceApply.IsValid() {
		return c
	}
	if apply.IsValid() {
		// Funcs.Apply(ctx, client WithWatch, obj ApplyConfiguration, opts ...ApplyOption) error
		apply.Set(reflect.MakeFunc(apply.Type(), func(args []reflect.Value) []reflect.Value {
			ctx, target, obj, opts := args[0], args[1], args[2], args[3]
			out := target.MethodByName("Apply").CallSlice([]reflect.Value{ctx, obj, opts})
			if !dryRunIn(opts, "ApplyToApply") {
				w.reportApply("", obj.Interface(), errorOf(out[0]))
			}
			return out
		}))
	}
	if subResourceApply.IsValid() {
		// Funcs.SubResourceApply(ctx, client Client, subResourceName string, obj ApplyConfiguration,
		// opts ...SubResourceApplyOption) error
		subResourceApply.Set(reflect.MakeFunc(subResourceApply.Type(), func(args []reflect.Value) []reflect.Value {
			ctx, target, name, obj, opts := args[0], args[1], args[2], args[3], args[4]
			sub := target.MethodByName("SubResource").Call([]reflect.Value{name})[0]
			out := sub.MethodByName("Apply").CallSlice([]reflect.Value{ctx, obj, opts})
			if !dryRunIn(opts, "ApplyToSubResourceApply") {
				w.reportApply(name.String(), obj.Interface(), errorOf(out[0]))
			}
			return out
		}))
	}
	watching, ok := c.(client.WithWatch)
	if !ok {
		watching = withoutWatch{c}
	}
	return interceptor.NewClient(watching, funcs.Interface().(interceptor.Funcs))
}

// withoutWatch lets a plain client.Client (the manager's) be intercepted: interceptor.NewClient takes a
// client.WithWatch. The interceptor is only ever used as a client.Client, so Watch is unreachable.
type withoutWatch struct{ client.Client }

func (withoutWatch) Watch(context.Context, client.ObjectList, ...client.ListOption) (watch.Interface, error) {
	return nil, errors.New("kreplay: Watch on a client that has none")
}

// dryRunIn applies the options opts (a slice of ApplyOption or SubResourceApplyOption) to a fresh options struct
// through their method applyTo (ApplyToApply or ApplyToSubResourceApply), as controller-runtime does, and tells
// whether the result asks for a dry run.
func dryRunIn(opts reflect.Value, applyTo string) bool {
	var options reflect.Value
	for i := range opts.Len() {
		opt := opts.Index(i)
		if opt.IsNil() {
			continue
		}
		method := opt.MethodByName(applyTo)
		if !method.IsValid() {
			continue
		}
		if !options.IsValid() {
			options = reflect.New(method.Type().In(0).Elem())
		}
		method.Call([]reflect.Value{options})
	}
	if !options.IsValid() {
		return false
	}
	dryRun := options.Elem().FieldByName("DryRun")
	return dryRun.IsValid() && dryRun.Kind() == reflect.Slice && dryRun.Len() > 0
}

func errorOf(v reflect.Value) error {
	err, _ := v.Interface().(error)
	return err
}
