{{/* Names -------------------------------------------------------------------------------------- */}}

{{- define "rcw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rcw.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "rcw.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "rcw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rcw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rcw.labels" -}}
helm.sh/chart: {{ include "rcw.chart" . }}
{{ include "rcw.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: admission-webhook
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "rcw.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rcw.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "rcw.webhookConfigurationName" -}}
{{- default (include "rcw.fullname" .) .Values.webhook.configurationName -}}
{{- end -}}

{{/* Secret holding tls.crt/tls.key: server-written (selfManaged), cert-manager-written, or the user's. */}}
{{- define "rcw.certSecretName" -}}
{{- if eq .Values.certificates.mode "secret" -}}
{{- .Values.certificates.secret.name -}}
{{- else -}}
{{- default (printf "%s-tls" (include "rcw.fullname" .)) .Values.certificates.secretName -}}
{{- end -}}
{{- end -}}

{{- define "rcw.certificateName" -}}
{{- printf "%s-serving" (include "rcw.fullname" .) -}}
{{- end -}}

{{- define "rcw.leaseName" -}}
{{- printf "%s-propagation" (include "rcw.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The ConfigMap the propagation leader publishes credential check outcomes in (the server derives it from LEASE_NAME). */}}
{{- define "rcw.credentialStatusName" -}}
{{- printf "%s-credential-status" (include "rcw.leaseName" .) -}}
{{- end -}}

{{- define "rcw.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Directory the container reads (and in selfManaged mode writes) tls.crt/tls.key from. */}}
{{- define "rcw.certDir" -}}
/var/run/registry-config-webhook/certs
{{- end -}}

{{/* Features the RBAC depends on -------------------------------------------------------------- */}}

{{/* auto|on|off; an unquoted on/off in a values file arrives as a YAML 1.1 boolean: accept it. */}}
{{- define "rcw.onOff" -}}
{{- if kindIs "bool" . -}}{{- ternary "on" "off" . -}}{{- else -}}{{- . -}}{{- end -}}
{{- end -}}

{{- define "rcw.propagationMode" -}}
{{- include "rcw.onOff" .Values.config.propagation.mode -}}
{{- end -}}

{{- define "rcw.authMode" -}}
{{- include "rcw.onOff" .Values.config.auth.mode -}}
{{- end -}}

{{- define "rcw.propagationEnabled" -}}
{{- if ne (include "rcw.propagationMode" .) "off" -}}true{{- end -}}
{{- end -}}

{{- define "rcw.resolverSource" -}}
{{- include "rcw.onOff" .Values.config.resolver.source -}}
{{- end -}}

{{- define "rcw.resolverWatches" -}}
{{- if has (include "rcw.resolverSource" .) (list "auto" "kubernetes") -}}true{{- end -}}
{{- end -}}

{{- define "rcw.authEnabled" -}}
{{- if ne (include "rcw.authMode" .) "off" -}}true{{- end -}}
{{- end -}}

{{/* Namespaces without a propagated copy: by default the ones the webhook does not see. */}}
{{- define "rcw.propagationExclude" -}}
{{- if .Values.config.propagation.exclude -}}
{{- .Values.config.propagation.exclude -}}
{{- else if .Values.webhook.namespaceSelector.excludeNamespaces -}}
{{- printf "kubernetes.io/metadata.name in (%s)" (join "," .Values.webhook.namespaceSelector.excludeNamespaces) -}}
{{- end -}}
{{- end -}}

{{/* caBundle for the secret mode: accepts PEM or base64 of PEM. */}}
{{- define "rcw.secretCaBundle" -}}
{{- $ca := .Values.certificates.secret.caBundle | trim -}}
{{- if hasPrefix "-----BEGIN" $ca -}}
{{- printf "%s\n" $ca | b64enc -}}
{{- else -}}
{{- $ca | replace "\n" "" -}}
{{- end -}}
{{- end -}}

{{/* Checks a JSON schema cannot express; rendered (empty) from the Deployment. ------------------- */}}
{{- define "rcw.validate" -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- $drain := add .Values.config.shutdown.delaySeconds .Values.config.shutdown.timeoutSeconds -}}
{{- if le $grace (int $drain) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed config.shutdown.delaySeconds + config.shutdown.timeoutSeconds (%d), or the kubelet kills the server while it drains" $grace (int $drain)) -}}
{{- end -}}
{{- if has .Values.config.systemNamespace .Values.webhook.namespaceSelector.excludeNamespaces -}}
{{- fail (printf "webhook.namespaceSelector.excludeNamespaces must not contain config.systemNamespace (%s): the default and the cluster-wide registry Secrets live there and must be mutated" .Values.config.systemNamespace) -}}
{{- end -}}
{{- if eq .Values.certificates.mode "secret" -}}
{{- if not .Values.certificates.secret.name -}}
{{- fail "certificates.secret.name is required when certificates.mode is secret (an existing Secret with tls.crt and tls.key in the release namespace)" -}}
{{- end -}}
{{- if not .Values.certificates.secret.caBundle -}}
{{- fail "certificates.secret.caBundle is required when certificates.mode is secret (the PEM CA that signed the serving certificate)" -}}
{{- end -}}
{{- end -}}
{{- if .Values.defaultRegistry.create -}}
{{- range $key := list "registryAddress" "serverAddress" "username" "password" -}}
{{- if not (index $.Values.defaultRegistry $key) -}}
{{- fail (printf "defaultRegistry.%s is required when defaultRegistry.create is true" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Monitoring ---------------------------------------------------------------------------------- */}}

{{/* PromQL matchers of this release's scrape targets (without braces). */}}
{{- define "rcw.metricsSelector" -}}
{{- default (printf "namespace=%q,job=%q" .Release.Namespace (include "rcw.fullname" .)) .Values.metrics.prometheusRule.selector -}}
{{- end -}}

{{/* PromQL matchers of this release's Deployment in kube-state-metrics. */}}
{{- define "rcw.deploymentSelector" -}}
{{- printf "namespace=%q,deployment=%q" .Release.Namespace (include "rcw.fullname" .) -}}
{{- end -}}
