import { z } from 'zod';
import { displayName } from './display-name';
import { multilineText, plainString, text } from './text';

const MAX_INT4 = 2_147_483_647;

export const CreateVendorBody = z.strictObject({
  storeName: displayName(100),
  description: multilineText(2_000).default(''),
});

/** Object keys of uploaded public images (`public/<path>` as returned by POST /api/uploads). */
export const ImageKey = z
  .string()
  .max(512)
  .regex(/^public\/[A-Za-z0-9._\-/]+$/, 'must be a key returned by POST /api/uploads?visibility=public');

export const VendorView = z.object({
  id: z.uuid(),
  userId: z.uuid(),
  storeName: z.string(),
  description: z.string(),
  /** Live products (not removed). */
  productCount: z.number().int(),
  logoKey: z.string().nullable(),
  /** Absolute download URL of the logo, on PUBLIC_BASE_URL like product images; null without a logo. */
  logoUrl: z.url().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The store as its own vendor sees it: also while suspended, and saying since when. */
export const OwnVendorView = VendorView.extend({
  suspendedAt: z.string().nullable(),
});

export const UpdateVendorBody = z
  .strictObject({
    storeName: CreateVendorBody.shape.storeName.optional(),
    description: multilineText(2_000).optional(),
    /** A key returned by POST /api/uploads?visibility=public, or null to remove the logo. */
    logoKey: ImageKey.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update' });

const productFields = {
  title: text(200).min(1, 'required'),
  description: multilineText(10_000),
  priceCents: z.number().int('must be whole cents').min(0, 'must not be negative').max(MAX_INT4),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'must be a 3-letter ISO 4217 code')
    .transform((c) => c.toLowerCase()),
  stock: z.number().int('must be a whole number').min(0, 'must not be negative').max(MAX_INT4),
  category: text(60).min(1).nullable(),
  imageKeys: z.array(ImageKey).max(10),
};

export const CreateProductBody = z.strictObject({
  ...productFields,
  description: productFields.description.default(''),
  currency: productFields.currency.default('usd'),
  stock: productFields.stock.default(0),
  category: productFields.category.default(null),
  imageKeys: productFields.imageKeys.default([]),
});

export const UpdateProductBody = z
  .strictObject({
    title: productFields.title.optional(),
    description: productFields.description.optional(),
    priceCents: productFields.priceCents.optional(),
    currency: productFields.currency.optional(),
    stock: productFields.stock.optional(),
    category: productFields.category.optional(),
    imageKeys: productFields.imageKeys.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update' });

const wholeNumber = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a whole number of cents')
  .transform(Number)
  .pipe(z.number().max(MAX_INT4));

export const productSorts = ['newest', 'price_asc', 'price_desc'] as const;

// Unknown query parameters (cache busters, tracking tags) are ignored, not refused.
export const ProductListQuery = z.object({
  q: text(200).optional(),
  category: text(60).min(1).optional(),
  vendorId: z.uuid({ message: 'must be a UUID' }).toLowerCase().optional(),
  minPrice: wholeNumber.optional(),
  maxPrice: wholeNumber.optional(),
  sort: z.enum(productSorts).default('newest'),
  // The default is the string the query would carry, so the documented default has the parameter's type.
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a whole number')
    .default('20')
    .transform(Number)
    .pipe(z.number().min(1).max(100, 'at most 100')),
  cursor: plainString(500).optional(),
});

// Unknown query parameters are ignored, as on the product list.
export const VendorListQuery = z.object({
  /** Part of the store name, any case. */
  q: text(100).optional(),
  limit: ProductListQuery.shape.limit,
  cursor: plainString(1_000).optional(),
});

export const VendorPage = z.object({
  items: z.array(VendorView),
  nextCursor: z.string().nullable(),
});

export const CategoryView = z.object({
  name: z.string(),
  /** Live products in it: not removed, their store not suspended. */
  productCount: z.number().int(),
});

export const CategoryList = z.object({
  categories: z.array(CategoryView),
});

export const ProductView = z.object({
  id: z.uuid(),
  vendorId: z.uuid(),
  title: z.string(),
  description: z.string(),
  priceCents: z.number().int(),
  currency: z.string(),
  stock: z.number().int(),
  category: z.string().nullable(),
  imageKeys: z.array(z.string()),
  /** Absolute download URLs of the images, on the server's public base URL (PUBLIC_BASE_URL, possibly a CDN). */
  imageUrls: z.array(z.url()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const ProductPage = z.object({
  items: z.array(ProductView),
  nextCursor: z.string().nullable(),
});

export type CreateVendorBody = z.infer<typeof CreateVendorBody>;
export type VendorView = z.infer<typeof VendorView>;
export type OwnVendorView = z.infer<typeof OwnVendorView>;
export type UpdateVendorBody = z.infer<typeof UpdateVendorBody>;
export type VendorListQuery = z.infer<typeof VendorListQuery>;
export type VendorPage = z.infer<typeof VendorPage>;
export type CategoryList = z.infer<typeof CategoryList>;
export type CreateProductBody = z.infer<typeof CreateProductBody>;
export type UpdateProductBody = z.infer<typeof UpdateProductBody>;
export type ProductListQuery = z.infer<typeof ProductListQuery>;
export type ProductSort = (typeof productSorts)[number];
export type ProductView = z.infer<typeof ProductView>;
export type ProductPage = z.infer<typeof ProductPage>;
