/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-browser-item.c — node of the study browser tree.
 */
#include "config.h"

#include "cu-browser-item.h"

struct _CuBrowserItem
{
  GObject parent_instance;

  CuBrowserItemKind kind;
  char *key;
  char *title;
  char *subtitle;
  GListStore *children;
  GdkPaintable *thumbnail;
  gboolean thumbnail_claimed;
  CuGateState gate;
  char *gate_reasons;
};

G_DEFINE_FINAL_TYPE (CuBrowserItem, cu_browser_item, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TITLE,
  PROP_SUBTITLE,
  PROP_THUMBNAIL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
cu_browser_item_dispose (GObject *object)
{
  CuBrowserItem *self = CU_BROWSER_ITEM (object);

  g_clear_object (&self->children);
  g_clear_object (&self->thumbnail);
  G_OBJECT_CLASS (cu_browser_item_parent_class)->dispose (object);
}

static void
cu_browser_item_finalize (GObject *object)
{
  CuBrowserItem *self = CU_BROWSER_ITEM (object);

  g_free (self->key);
  g_free (self->title);
  g_free (self->subtitle);
  g_free (self->gate_reasons);
  G_OBJECT_CLASS (cu_browser_item_parent_class)->finalize (object);
}

static void
cu_browser_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  CuBrowserItem *self = CU_BROWSER_ITEM (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_SUBTITLE:
      g_value_set_string (value, self->subtitle);
      break;
    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
cu_browser_item_class_init (CuBrowserItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cu_browser_item_dispose;
  object_class->finalize = cu_browser_item_finalize;
  object_class->get_property = cu_browser_item_get_property;

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SUBTITLE] =
    g_param_spec_string ("subtitle", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_PAINTABLE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
cu_browser_item_init (CuBrowserItem *self)
{
}

CuBrowserItem *
cu_browser_item_new (CuBrowserItemKind kind, const char *key, const char *title,
                     const char *subtitle)
{
  CuBrowserItem *self = g_object_new (CU_TYPE_BROWSER_ITEM, NULL);

  self->kind = kind;
  self->key = g_strdup (key);
  self->title = g_strdup (title);
  self->subtitle = g_strdup (subtitle);
  self->gate = CU_GATE_PASSED;
  if (kind != CU_BROWSER_ITEM_SERIES)
    self->children = g_list_store_new (CU_TYPE_BROWSER_ITEM);
  return self;
}

CuBrowserItemKind
cu_browser_item_get_kind (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), CU_BROWSER_ITEM_SERIES);
  return self->kind;
}

const char *
cu_browser_item_get_key (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), NULL);
  return self->key;
}

const char *
cu_browser_item_get_title (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), NULL);
  return self->title;
}

const char *
cu_browser_item_get_subtitle (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), NULL);
  return self->subtitle;
}

/* A study's subtitle changes with its gate ("Superseded by …"). */
void
cu_browser_item_set_subtitle (CuBrowserItem *self, const char *subtitle)
{
  g_return_if_fail (CU_IS_BROWSER_ITEM (self));
  if (g_strcmp0 (self->subtitle, subtitle) == 0)
    return;
  g_free (self->subtitle);
  self->subtitle = g_strdup (subtitle);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBTITLE]);
}

GListStore *
cu_browser_item_get_children (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), NULL);
  return self->children;
}

GdkPaintable *
cu_browser_item_get_thumbnail (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), NULL);
  return self->thumbnail;
}

void
cu_browser_item_set_thumbnail (CuBrowserItem *self, GdkPaintable *thumbnail)
{
  g_return_if_fail (CU_IS_BROWSER_ITEM (self));
  if (g_set_object (&self->thumbnail, thumbnail))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

gboolean
cu_browser_item_claim_thumbnail (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), FALSE);
  if (self->thumbnail_claimed || self->kind != CU_BROWSER_ITEM_SERIES)
    return FALSE;
  self->thumbnail_claimed = TRUE;
  return TRUE;
}

CuGateState
cu_browser_item_get_gate (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), CU_GATE_PENDING);
  return self->gate;
}

const char *
cu_browser_item_get_gate_reasons (CuBrowserItem *self)
{
  g_return_val_if_fail (CU_IS_BROWSER_ITEM (self), NULL);
  return self->gate_reasons;
}

void
cu_browser_item_set_gate (CuBrowserItem *self, CuGateState gate, const char *reasons)
{
  g_return_if_fail (CU_IS_BROWSER_ITEM (self));
  self->gate = gate;
  g_free (self->gate_reasons);
  self->gate_reasons = g_strdup (reasons);
}
