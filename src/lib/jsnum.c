/* Numbers between JSON text and doubles, as ECMAScript does it: shortest digits
 * that read back to the same double, laid out per ECMA-262 Number::toString.
 * Invariant: nothing here depends on the C locale (a program that calls
 * setlocale must still get "1.5", not "1,5"), so strtod only ever sees an
 * integer mantissa and an exponent, which read the same in every locale. */
#include "lib/json.h"
#include "lib/json_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exponents beyond this are infinity or zero for any digit string we accept. */
#define EXP_CLAMP 1000000000L

/* s[0..o) holds an optional '-' and digits; append "e<q>" (room for 24 bytes
 * is the caller's duty) and read it. */
static double read_with_exponent(char *s, size_t o, long q)
{
	snprintf(s + o, 24, "e%ld", q);
	return strtod(s, NULL);
}

/* Read digits * 10^q; digits is a plain run of decimal digits. */
static double read_scaled(const char *digits, size_t n, long q)
{
	char s[64];
	memcpy(s, digits, n);
	return read_with_exponent(s, n, q);
}

static long parse_exponent(const char *p, const char *end)
{
	int neg = 0;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	long e = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		if (e < EXP_CLAMP)
			e = e * 10 + (*p - '0');
	return neg ? -e : e;
}

int tb_json_number_value(const char *text, size_t len, double *out)
{
	const char *p = text, *end = text + len;
	char small[64];
	char *s = len + 32 <= sizeof small ? small : malloc(len + 32);
	if (s == NULL)
		return TB_ENOMEM;
	size_t n = 0;
	if (p < end && *p == '-')
		s[n++] = *p++;
	long frac = 0;
	int in_frac = 0;
	for (; p < end && *p != 'e' && *p != 'E'; p++) {
		if (*p == '.') {
			in_frac = 1;
			continue;
		}
		s[n++] = *p;
		frac += in_frac && frac < EXP_CLAMP;
	}
	long e = p < end ? parse_exponent(p + 1, end) : 0;
	double v = read_with_exponent(s, n, e - frac);
	if (s != small)
		free(s);
	*out = v;
	return isinf(v) ? TB_EINVAL : 0;
}

/* A decimal candidate: value = m * 10^q, m a run of digits without leading zeros. */
struct decimal {
	char m[24];
	size_t k;
	long q;
};

static void strip_zeros(struct decimal *d)
{
	size_t lead = 0;
	while (lead + 1 < d->k && d->m[lead] == '0')
		lead++;
	memmove(d->m, d->m + lead, d->k - lead);
	d->k -= lead;
	while (d->k > 1 && d->m[d->k - 1] == '0') {
		d->k--;
		d->q++;
	}
}

static void step(struct decimal *d, int up)
{
	size_t i = d->k;
	while (i-- > 0) {
		if (up ? d->m[i] != '9' : d->m[i] != '0') {
			d->m[i] += up ? 1 : -1;
			return;
		}
		d->m[i] = up ? '0' : '9';
	}
	/* carried out of the top: 99..9 + 1 */
	memmove(d->m + 1, d->m, d->k);
	d->m[0] = '1';
	d->k++;
}

static int reads_back(const struct decimal *d, double a)
{
	return read_scaled(d->m, d->k, d->q) == a;
}

/* The p-digit decimal nearest a, from printf (correctly rounded, ties to even). */
static void nearest(double a, int p, struct decimal *d)
{
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%.*e", p - 1, a);
	const char *e = strchr(tmp, 'e');
	d->k = 0;
	for (const char *c = tmp; c < e; c++)
		if (*c >= '0' && *c <= '9')
			d->m[d->k++] = *c;
	d->q = parse_exponent(e + 1, e + strlen(e)) - (p - 1);
}

/* Fewest digits that read back as a; of two such, the nearer (ECMA-262 7.1.12.1).
 * printf gives the nearest p-digit decimal; when it does not read back, the other
 * neighbour can (the rounding interval is lopsided at powers of two). */
static void shortest(double a, struct decimal *d)
{
	for (int p = 1; p <= 17; p++) {
		nearest(a, p, d);
		if (reads_back(d, a))
			break;
		int up = read_scaled(d->m, d->k, d->q) < a;
		step(d, up);
		if (reads_back(d, a))
			break;
	}
	strip_zeros(d);
}

static size_t put_exponent(char *o, long e)
{
	return (size_t)sprintf(o, "e%c%ld", e < 0 ? '-' : '+', e < 0 ? -e : e);
}

/* Lay out digits s (k of them) with the decimal point after n digits. */
static void layout(const char *s, long k, long n, char *o)
{
	if (k <= n && n <= 21) {
		memcpy(o, s, (size_t)k);
		memset(o + k, '0', (size_t)(n - k));
		o[n] = '\0';
	} else if (0 < n && n <= 21) {
		memcpy(o, s, (size_t)n);
		o[n] = '.';
		memcpy(o + n + 1, s + n, (size_t)(k - n));
		o[k + 1] = '\0';
	} else if (-6 < n && n <= 0) {
		memcpy(o, "0.", 2);
		memset(o + 2, '0', (size_t)-n);
		memcpy(o + 2 - n, s, (size_t)k);
		o[2 - n + k] = '\0';
	} else {
		size_t at = 1;
		o[0] = s[0];
		if (k > 1) {
			o[1] = '.';
			memcpy(o + 2, s + 1, (size_t)(k - 1));
			at = (size_t)k + 1;
		}
		put_exponent(o + at, n - 1);
	}
}

int tb_json_format_number(double v, char *buf, size_t size)
{
	if (!isfinite(v) || buf == NULL || size < 32)
		return TB_EINVAL;
	if (v == 0) { /* +0 and -0 alike */
		strcpy(buf, "0");
		return 0;
	}
	struct decimal d;
	shortest(fabs(v), &d);
	char *o = buf;
	if (v < 0)
		*o++ = '-';
	layout(d.m, (long)d.k, d.q + (long)d.k, o);
	return 0;
}
