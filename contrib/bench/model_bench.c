/* Benchmark, run by hand: canonical records translated and validated per second
 * on one core, (1) over the HMRC CDS samples (XML decode + mapping + validation)
 * and (2) over a generated aeo.status corpus (JSON native records through
 * tests/model/aeo-roundtrip.json). Usage: model_bench [SRCDIR [SECONDS]]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/xml.h"
#include "model/dict.h"
#include "model/mapping.h"
#include "model/record.h"

#define MAX_SAMPLES 64
#define AEO_CORPUS 1000

struct input {
	struct tb_buf text;
	const struct tb_mapping *m;
	int xml;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one(const struct tb_dict *d, const struct input *in)
{
	struct tb_json *native = NULL, *rec = NULL;
	struct tb_error err = {0};
	struct tb_violations v = {0};
	const char *t = (const char *)in->text.data;
	int rc = in->xml ? tb_xml_to_json(t, in->text.len, NULL, &native, &err)
	                 : tb_json_parse(t, in->text.len, NULL, &native, &err);
	rc = rc ? rc : tb_mapping_to_record(in->m, NULL, native, &rec, &err);
	rc = rc ? rc : tb_record_validate(d, rec, &v);
	if (!rc && v.len)
		rc = -1;
	if (rc)
		fprintf(stderr, "model_bench: %s\n", err.msg[0] ? err.msg : "record invalid");
	tb_violations_fini(&v);
	tb_json_free(rec);
	tb_json_free(native);
	return rc;
}

static void measure(const char *what, const struct tb_dict *d, const struct input *in, size_t n,
                    double seconds)
{
	size_t done = 0;
	double t0 = now(), t;
	do {
		for (size_t i = 0; i < n; i++)
			if (one(d, &in[i]))
				exit(1);
		done += n;
		t = now() - t0;
	} while (t < seconds);
	printf("%-34s %8zu records in %.2f s: %10.0f records/s per core\n", what, done, t,
	       (double)done / t);
}

static int load_samples(const char *src, const struct tb_mapping *dec, const struct tb_mapping *res,
                        struct input *in, size_t *n)
{
	char p[4096];
	struct tb_json *exp;
	struct tb_buf b;
	struct tb_error err = {0};
	snprintf(p, sizeof p, "%s/tests/vectors/wco-dm-hmrc/expected.json", src);
	tb_buf_init(&b, 1 << 20);
	if (tb_buf_read_file(&b, p, &err) || tb_json_parse((char *)b.data, b.len, NULL, &exp, &err)) {
		fprintf(stderr, "model_bench: %s\n", err.msg);
		return -1;
	}
	tb_buf_fini(&b);
	const struct tb_json *files = tb_json_get(exp, "files");
	for (size_t i = 0; i < tb_json_len(files) && *n < MAX_SAMPLES; i++) {
		const struct tb_json_member *f = &files->u.object.members[i];
		int dec_kind = strcmp(tb_json_string(tb_json_get(f->value, "WCOTypeName")), "DEC") == 0;
		snprintf(p, sizeof p, "%s/tests/vectors/wco-dm-hmrc/samples/%s", src, f->key);
		tb_buf_init(&in[*n].text, 1 << 20);
		if (tb_buf_read_file(&in[*n].text, p, &err)) {
			fprintf(stderr, "model_bench: %s\n", err.msg);
			return -1;
		}
		in[*n].m = dec_kind ? dec : res;
		in[*n].xml = 1;
		(*n)++;
	}
	tb_json_free(exp);
	return 0;
}

static void gen_aeo(struct input *in, size_t i, const struct tb_mapping *m)
{
	static const char *const st[] = {"A", "S", "R", "RI", "E"};
	static const char *const cc[] = {"PE", "MX", "CO", "CL", "JP"};
	tb_buf_init(&in->text, 4096);
	tb_buf_printf(&in->text,
	              "{\"certificate\":{\"number\":\"AEO-%06zu\",\"status\":\"%s\",\"since\":\"%zu\","
	              "\"until\":\"20301231\"},\"scope\":\"AEOC,AEOS\",\"authority\":{\"country\":\"%s\","
	              "\"name\":\"Customs\"},\"holder\":{\"name\":\"Holder %zu SA\",\"taxId\":\"TIN%09zu\","
	              "\"street\":\"Street %zu\",\"building\":\"%zu\",\"city\":\"City\",\"country\":\"%s\"},"
	              "\"mra\":[{\"country\":\"%s\"},{\"country\":\"%s\",\"partnerId\":\"P%zu\"}]}",
	              i, st[i % 5], 1600000000 + i * 3600, cc[i % 5], i, i, i, i % 500, cc[i % 5],
	              cc[(i + 1) % 5], cc[(i + 2) % 5], i);
	in->m = m;
	in->xml = 0;
}

int main(int argc, char **argv)
{
	const char *src = argc > 1 ? argv[1] : getenv("TB_SRCDIR") ? getenv("TB_SRCDIR") : ".";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	char p[4096];
	struct tb_dict *d;
	struct tb_mapping *dec, *res, *aeo;
	struct tb_error err = {0};
	static struct input samples[MAX_SAMPLES], corpus[AEO_CORPUS];
	size_t ns = 0;
	snprintf(p, sizeof p, "%s/mappings/wco", src);
	if (tb_dict_load(p, &d, &err)) {
		fprintf(stderr, "model_bench: %s\n", err.msg);
		return 2;
	}
	snprintf(p, sizeof p, "%s/mappings/hmrc-dec.json", src);
	int rc = tb_mapping_load(p, &dec, &err);
	snprintf(p, sizeof p, "%s/mappings/hmrc-res.json", src);
	rc = rc ? rc : tb_mapping_load(p, &res, &err);
	snprintf(p, sizeof p, "%s/tests/model/aeo-roundtrip.json", src);
	rc = rc ? rc : tb_mapping_load(p, &aeo, &err);
	if (rc || load_samples(src, dec, res, samples, &ns)) {
		fprintf(stderr, "model_bench: %s\n", err.msg);
		return 2;
	}
	for (size_t i = 0; i < AEO_CORPUS; i++)
		gen_aeo(&corpus[i], i, aeo);
	measure("HMRC samples (XML, DEC+RES)", d, samples, ns, secs);
	measure("generated aeo.status (JSON)", d, corpus, AEO_CORPUS, secs);
	for (size_t i = 0; i < ns; i++)
		tb_buf_fini(&samples[i].text);
	for (size_t i = 0; i < AEO_CORPUS; i++)
		tb_buf_fini(&corpus[i].text);
	tb_mapping_free(dec);
	tb_mapping_free(res);
	tb_mapping_free(aeo);
	tb_dict_free(d);
	return 0;
}
