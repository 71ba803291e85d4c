/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-report.c — findings, metrics and reports of the quality gate.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-qc-report.h"

G_DEFINE_QUARK (cu-qc-error-quark, cu_qc_error)

const char *
cu_qc_severity_to_string (CuQcSeverity severity)
{
  switch (severity)
    {
    case CU_QC_SEVERITY_ERROR:
      return "error";
    case CU_QC_SEVERITY_WARNING:
      return "warning";
    case CU_QC_SEVERITY_INFO:
    default:
      return "info";
    }
}

CuQcSeverity
cu_qc_severity_from_string (const char *text)
{
  if (g_strcmp0 (text, "error") == 0)
    return CU_QC_SEVERITY_ERROR;
  if (g_strcmp0 (text, "warning") == 0)
    return CU_QC_SEVERITY_WARNING;
  return CU_QC_SEVERITY_INFO;
}

const char *
cu_qc_severity_to_label (CuQcSeverity severity)
{
  switch (severity)
    {
    case CU_QC_SEVERITY_ERROR:
      /* TRANSLATORS: severity of a quality finding */
      return _("Error");
    case CU_QC_SEVERITY_WARNING:
      return _("Warning");
    case CU_QC_SEVERITY_INFO:
    default:
      return _("Info");
    }
}

CuQcFinding *
cu_qc_finding_new (const char *code, CuQcSeverity severity, int slice, const char *attribute,
                   const char *path, char *message)
{
  CuQcFinding *f = g_new0 (CuQcFinding, 1);

  f->code = g_strdup (code);
  f->severity = severity;
  f->slice = slice;
  f->attribute = g_strdup (attribute);
  f->path = g_strdup (path);
  f->message = message;
  return f;
}

void
cu_qc_finding_free (CuQcFinding *f)
{
  if (f == NULL)
    return;
  g_free (f->code);
  g_free (f->message);
  g_free (f->attribute);
  g_free (f->path);
  g_free (f);
}

CuQcReport *
cu_qc_report_new (void)
{
  CuQcReport *r = g_new0 (CuQcReport, 1);

  r->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_finding_free);
  r->metrics = g_array_new (FALSE, TRUE, sizeof (CuQcMetric));
  r->parameters = g_array_new (FALSE, TRUE, sizeof (CuQcMetric));
  r->mask_threshold = NAN;
  return r;
}

void
cu_qc_report_free (CuQcReport *r)
{
  if (r == NULL)
    return;
  g_free (r->series_uid);
  g_free (r->modality);
  g_free (r->stack_label);
  g_ptr_array_unref (r->findings);
  g_array_unref (r->metrics);
  g_array_unref (r->parameters);
  g_clear_pointer (&r->volume, cu_volume_unref);
  g_free (r->mask);
  g_free (r->sequence);
  g_free (r->scanner);
  g_free (r->plane);
  g_free (r->body_part);
  g_free (r);
}

void
cu_qc_report_add (CuQcReport *r, CuQcFinding *f)
{
  switch (f->severity)
    {
    case CU_QC_SEVERITY_ERROR:
      r->n_errors++;
      break;
    case CU_QC_SEVERITY_WARNING:
      r->n_warnings++;
      break;
    default:
      r->n_info++;
      break;
    }
  g_ptr_array_add (r->findings, f);
}

static int
compare_findings (gconstpointer pa, gconstpointer pb)
{
  const CuQcFinding *a = *(CuQcFinding *const *) pa, *b = *(CuQcFinding *const *) pb;

  if (a->severity != b->severity)
    return a->severity > b->severity ? -1 : 1;
  if (a->slice != b->slice)
    return a->slice < b->slice ? -1 : 1;
  return g_strcmp0 (a->code, b->code);
}

void
cu_qc_report_sort (CuQcReport *r)
{
  g_ptr_array_sort (r->findings, compare_findings);
}

double
cu_qc_report_metric (const CuQcReport *r, const char *name)
{
  for (guint i = 0; i < r->metrics->len; i++)
    {
      const CuQcMetric *m = &g_array_index (r->metrics, CuQcMetric, i);
      if (strcmp (m->name, name) == 0)
        return m->value;
    }
  return NAN;
}

void
cu_qc_report_set_metric (CuQcReport *r, const char *name, double value)
{
  CuQcMetric m = { { 0 }, value };

  for (guint i = 0; i < r->metrics->len; i++)
    {
      CuQcMetric *e = &g_array_index (r->metrics, CuQcMetric, i);
      if (strcmp (e->name, name) == 0)
        {
          e->value = value;
          return;
        }
    }
  g_strlcpy (m.name, name, sizeof m.name);
  g_array_append_val (r->metrics, m);
}
