// Package widget is the zoo's one custom resource: Widget (zoo.kreplay.dev/v1, namespaced, status subresource),
// whose controllers keep a child ConfigMap "<name>-config" owned by it. The CRD is ../../crd.yaml; keep the two in
// step. Hand-written DeepCopy instead of controller-gen: one small type is not worth a generator.
package widget

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

const (
	Group = "zoo.kreplay.dev"
	// Finalizer is the one the zoo's controllers that clean up before deletion add.
	Finalizer = "zoo.kreplay.dev/cleanup"
	// ReadyCondition is true once the child ConfigMap matches the spec.
	ReadyCondition = "Ready"
)

var (
	GroupVersion = schema.GroupVersion{Group: Group, Version: "v1"}
	GVK          = GroupVersion.WithKind("Widget")
	GVR          = GroupVersion.WithResource("widgets")
)

type Spec struct {
	Size int32 `json:"size"`
}

type Status struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	ObservedSize       int32              `json:"observedSize,omitempty"`
	LastSyncTime       string             `json:"lastSyncTime,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type Widget struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec   `json:"spec,omitempty"`
	Status            Status `json:"status,omitempty"`
}

type WidgetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Widget `json:"items"`
}

func (in *Status) DeepCopyInto(out *Status) {
	*out = *in
	if in.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(in.Conditions))
		for i := range in.Conditions {
			in.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
}

func (in *Widget) DeepCopyInto(out *Widget) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Status.DeepCopyInto(&out.Status)
}

func (in *Widget) DeepCopy() *Widget {
	if in == nil {
		return nil
	}
	out := new(Widget)
	in.DeepCopyInto(out)
	return out
}

func (in *Widget) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *WidgetList) DeepCopyObject() runtime.Object {
	if in == nil {
		return nil
	}
	out := new(WidgetList)
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Widget, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// NewScheme knows client-go's types and Widget.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	s.AddKnownTypes(GroupVersion, &Widget{}, &WidgetList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return s
}

// ChildName is the name of a Widget's ConfigMap.
func ChildName(name string) string { return name + "-config" }

// ChildData is what the child ConfigMap of a Widget of this size holds.
func ChildData(size int32) map[string]string {
	return map[string]string{"size": strconv.Itoa(int(size))}
}

// OwnerReference makes the Widget the child's controller: kube-controller-manager's garbage collector deletes the
// child after the Widget, and controller-runtime's Owns() maps the child's events back to it.
func OwnerReference(w *Widget) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: GroupVersion.String(), Kind: GVK.Kind, Name: w.Name, UID: w.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// DesiredChild is the child ConfigMap a Widget should have.
func DesiredChild(w *Widget) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: ChildName(w.Name), Namespace: w.Namespace,
			Labels:          map[string]string{"zoo.kreplay.dev/widget": w.Name},
			OwnerReferences: []metav1.OwnerReference{OwnerReference(w)},
		},
		Data: ChildData(w.Spec.Size),
	}
}

// DeepCopyStatus copies a Status (its conditions too).
func (in *Status) DeepCopyStatus() *Status {
	out := new(Status)
	in.DeepCopyInto(out)
	return out
}
