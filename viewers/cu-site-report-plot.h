/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-site-report-plot.h — the harmonization report as a picture: per feature, the series'
 * values per site before and after harmonization, with the batch-effect statistics. Drawn
 * with cairo, so that one drawing serves the SVG and PNG files curata-cli writes and the
 * Review window's tab.
 */
#pragma once

#include <cairo.h>

#include "curation.h"

G_BEGIN_DECLS

/* Natural size of the picture for a report (pixels at scale 1). */
void     cu_site_report_plot_size  (const CuSiteReport *report, int *width, int *height);
/* Draw the report into cr over width × height. */
void     cu_site_report_plot_draw  (cairo_t *cr, const CuSiteReport *report, double width,
                                    double height);
/* Write the picture as SVG and/or PNG (either path may be NULL). */
gboolean cu_site_report_plot_write (const CuSiteReport *report, const char *svg_path,
                                    const char *png_path, GError **error);

G_END_DECLS
