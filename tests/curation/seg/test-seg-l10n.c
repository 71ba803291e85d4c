/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-seg-l10n.c — the words that come from data files reach the reader in their language
 * (review defect 12): under LANGUAGE=es, with the catalogue built from po/es.po, the PI-RADS
 * form's fields and options, the label terms and a label saved under a term's English name read
 * in Spanish, a name a reader typed stays as typed, the acquisition protocol's name and
 * requirements come from its Name[es]/Label[es], and plurals agree with their count. The
 * expected words are the Spanish radiology terms, written here, not read from Curata.
 */
#include "config.h"

#include <locale.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "curation.h"

static const CuFormField *
field (const CuSegForm *form, const char *id)
{
  for (guint i = 0; i < cu_seg_form_get_n_fields (form); i++)
    if (g_str_equal (cu_seg_form_get_field (form, i)->id, id))
      return cu_seg_form_get_field (form, i);
  g_assert_not_reached ();
}

static void
test_form (void)
{
  g_autoptr (GError) error = NULL;
  CuSegForm *form = cu_seg_form_load ("pirads-v2.1", &error);
  const CuFormField *zone, *overall, *dce;

  g_assert_no_error (error);
  zone = field (form, "zone");
  g_assert_cmpstr (zone->label, ==, "Zona");
  g_assert_cmpstr (zone->option_values[0], ==, "PZ");          /* answers keep the ids */
  g_assert_cmpstr (zone->option_labels[0], ==, "Zona periférica");
  g_assert_cmpstr (zone->option_labels[3], ==, "Estroma fibromuscular anterior");
  overall = field (form, "overall");
  g_assert_cmpstr (overall->label, ==, "Categoría PI-RADS");
  dce = field (form, "dce");
  g_assert_cmpstr (dce->option_values[1], ==, "positive");
  g_assert_cmpstr (dce->option_labels[1], ==, "Positivo");
  /* A validation message names the field in the reader's language too. */
  g_assert_false (cu_seg_form_validate (form, "{\"zone\": \"PZ\", \"t2w\": 9}", FALSE, &error));
  g_assert_nonnull (strstr (error->message, "Puntuación T2W"));
  cu_seg_form_free (form);
}

static void
test_terms_and_labels (void)
{
  const CuSegTerm *prostate = cu_seg_terminology_find ("prostate");
  const CuSegTerm *bladder = cu_seg_terminology_find ("bladder");
  g_autoptr (CuLabel) saved = cu_label_new (1, "Prostate", NULL);
  g_autoptr (CuLabel) typed = cu_label_new (2, "Prostate (whole gland)", NULL);

  g_assert_nonnull (prostate);
  g_assert_cmpstr (cu_seg_term_get_display_name (prostate), ==, "Próstata");
  g_assert_cmpstr (cu_seg_term_get_display_name (bladder), ==, "Vejiga urinaria");
  /* the coded meaning is the same for every reader */
  g_assert_cmpstr (prostate->type_code, ==, "41216001");
  cu_seg_term_apply (prostate, saved, FALSE);
  cu_seg_term_apply (prostate, typed, FALSE);
  g_assert_cmpstr (cu_seg_label_get_display_name (saved), ==, "Próstata");
  g_assert_cmpstr (cu_seg_label_get_display_name (typed), ==, "Prostate (whole gland)");
}

static void
test_protocol (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcProtocol) p = cu_qc_protocol_load ("prostate-mpmri-pirads-2.1", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (cu_qc_protocol_get_name (p), ==, "RM multiparamétrica de próstata (PI-RADS v2.1)");
}

static void
test_plurals (void)
{
  /* "1 pacientes" and "1 flags" were singular counts with a plural noun. */
  g_autofree char *one = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u patient", "%u patients", 1), 1u);
  g_autofree char *two = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u patient", "%u patients", 2), 2u);
  g_autofree char *flag = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new flag", "%u new flags", 1), 1u);

  g_assert_cmpstr (one, ==, "1 paciente");
  g_assert_cmpstr (two, ==, "2 pacientes");
  g_assert_cmpstr (flag, ==, "1 alerta nueva");
}

int
main (int argc, char **argv)
{
  const char *dir = g_getenv ("CURATA_LOCALEDIR");

  /* C.UTF-8, not C: gettext ignores LANGUAGE in the C locale. */
  g_setenv ("LANGUAGE", "es", TRUE);
  if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    g_error ("the C.UTF-8 locale is missing");
  g_assert_nonnull (dir);
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/seg/l10n/form", test_form);
  g_test_add_func ("/curation/seg/l10n/terms-and-labels", test_terms_and_labels);
  g_test_add_func ("/curation/seg/l10n/protocol", test_protocol);
  g_test_add_func ("/curation/seg/l10n/plurals", test_plurals);
  return g_test_run ();
}
