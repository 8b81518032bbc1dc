/* test_jarm.c — JARM against the published method (salesforce/jarm
 * jarm.py 1.0): the ten hellos byte for byte (same randomness fed to both),
 * and the fingerprint of answers recorded from openssl s_server (TLS 1.3
 * with ALPN http/1.1; TLS 1.2 only) and gnutls-serv (NORMAL + TLS 1.0/1.1,
 * 3DES, RC4) to jarm.py's hellos, compared with jarm.py's own read_packet
 * and jarm_hash on the same bytes. Reference values were produced by
 * running jarm.py's functions (packet_building with os.urandom and
 * random.choice made deterministic, read_packet, jarm_hash) on loopback. */
#include <errno.h>
#include <openssl/evp.h>

#include "probes/jarm.h"
#include "tests/unit/test.h"

static const char ossl13_raw[] =
    "0033|0303|http/1.1|ff01-0001-0023-0010-0017,009d|0303|http/"
    "1.1|ff01-0001-0023-0010-0017,009f|0303|http/"
    "1.1|ff01-0001-0023-0010-0017,|||,|||,|||,1302|0303||002b-0033,1303|0303||002b-0033,|||,|||";
static const char *const ossl13_answers[10] = {
    "160303004d020000490303b9ebd7772642826d814a3482c8a26751159cf0f7bf4a96b1444f574e4752440100003300"
    "0021ff010001000001000101002300000010000b000908687474702f312e3100170000",
    "160303004d02000049030358f838b1357723ce575871997f230a5e79ad5de43166cbf2444f574e4752440100009d00"
    "0021ff010001000001000101002300000010000b000908687474702f312e3100170000",
    "160303004d020000490303f09953796fea23dd114773d53b3c4cb2d2e801069fd38c50444f574e4752440100009f00"
    "0021ff010001000001000101002300000010000b000908687474702f312e3100170000",
    "15030300020278",
    "15030300020278",
    "15030200020250",
    "160303007a020000760303568e21aea5bc2f38383b7492c7ee11539c977c6205c5afbc42d5761c86bc02ba208693a0"
    "adbac7d4e1eefb0815222f3c495663707d8a97a4b1becbd8e5f2ff0c19130200002e002b0002030400330024001d00"
    "201ec4e4b46f5024c18c8e5d573a8dcca92ccc839257d85ca5251a3f443d49bd4c",
    "160303007a020000760303e048bfc986e178c558633ebf8f5831cf88adcc2841fec4a45d2afa8f34a63bf9209ba8b5"
    "c2cfdce9f603101d2a3744515e6b7885929facb9c6d3e0edfa0714212e130300002e002b0002030400330024001d00"
    "2047e6224764c4f04febfe799e6bcbcb9baf2219a09d2ee2e0794dd10258cd900d",
    "15030300020228",
    "1503030002022f",
};
static const char ossl13_jarm[] = "07d14d16d00000000042d43d000000f2c4e39fdbdf834a0456be8a78eb1c15";
static const char ossl12_raw[] =
    "0033|0303||ff01-0001-0023-0017,009d|0303||ff01-0001-0023-0017,009f|0303||ff01-0001-0023-0017,"
    "c013|0303||ff01-0001-000b-0023-0017,c013|0303||ff01-0001-000b-0023-0017,|||,0033|0303||ff01-"
    "0001-0023-0017,009d|0303||ff01-0001-0023-0017,0033|0303||ff01-0001-0023-0017,c013|0303||ff01-"
    "0001-000b-0023-0017";
static const char *const ossl12_answers[10] = {
    "160303003e0200003a030352e9830686887615f8abfe3dc8da51ea2784d0b02ce95c57a189ddb1c0e042ad00003300"
    "0012ff0100010000010001010023000000170000",
    "160303003e0200003a0303f0fe016ad6c52a3751c817bb7c2571abcbd7bd2b7dfebbb69cf32ad225b7e84700009d00"
    "0012ff0100010000010001010023000000170000",
    "160303003e0200003a0303ea46e5cf0d2677be5c889105ade7dcbba299bb5d84e897cc95001a7ad9d393d600009f00"
    "0012ff0100010000010001010023000000170000",
    "16030300460200004203030237e97beca454cc93d81d6c748a085406d0192935367d1cf80f5cdfc459a98a00c01300"
    "001aff010001000001000101000b0004030001020023000000170000",
    "1603030046020000420303ab011b5365aaa5d1f431699d7fd9447962eb8b96ae84ef1ba98c3f377f5b146000c01300"
    "001aff010001000001000101000b0004030001020023000000170000",
    "15030200020246",
    "160303003e0200003a03034de6e4fab73f0470bd29b0acbb23ba4a25a824df179376e6016069b54e55a17800003300"
    "0012ff0100010000010001010023000000170000",
    "160303003e0200003a0303f9d57b756dce6078686756796a14778630f9544e67f13d03659b26ed926ede7600009d00"
    "0012ff0100010000010001010023000000170000",
    "160303003e0200003a0303beffa6c4bd509c20c70afe26e5bd1c97f3543964de9c232d50a6191bc6d98fea00003300"
    "0012ff0100010000010001010023000000170000",
    "1603030046020000420303f880ea26637307b46a15237b1dfb6b9f31a77936ef61d7f3811fa684f59ac7d700c01300"
    "001aff010001000001000101000b0004030001020023000000170000",
};
static const char ossl12_jarm[] = "07d14d16d21d21d00007d14d07d21d0ae59125bcd90b8876b50928af8f6cd4";
static const char gnutls_raw[] =
    "0016|0303||0017-0023-ff01-0001,0005|0303||0017-0023-ff01-0001,c012|0303||000b-0017-0023-ff01-"
    "0001,c013|0303||000b-0017-0023-ff01-0001,c012|0303||000b-0017-0023-ff01-0001,0016|0302||0017-"
    "0023-ff01-0001,1302|0303||0033-002b,1303|0303||0033-002b,|||,1301|0303||0033-002b";
static const char *const gnutls_answers[10] = {
    "160303005e0200005a0303eb90e2fe3b30785f23357e4c8585b6f0b3ab371a4ded43fa444f574e475244012095ab2c"
    "e7fa2990f5422c3250fecdeac4a7f180be34e5b63c554a6153357ea03a00160000120017000000230000ff01000100"
    "0001000101",
    "160303005e0200005a0303479c8ad92a5beb6efcfc0aebd1da08f50a40c1dc36aa718f444f574e4752440120c974b7"
    "987295aa72106d5ba1c616cfba9f941e71376e7b01494ee4c7798ec01100050000120017000000230000ff01000100"
    "0001000101",
    "16030300640200006003034915ee6832976092dd624a2ed1044e9dc3c35cc48c2e5dce444f574e47524401203f98eb"
    "c5a77fbd78e521e29441ce24b7ca979a0f09647ab3506e1fb2a274c625c012000018000b0002010000170000002300"
    "00ff010001000001000101",
    "1603030064020000600303f3de17afee435e34de802c4e3832485380f796aeb0fffa9c444f574e47524401208982b4"
    "7deea79c5bcb8e79e862e91fd1ba72114b31b75d7f95936c49ffc7e38cc013000018000b0002010000170000002300"
    "00ff010001000001000101",
    "1603030064020000600303e61254633753dd54eebb4e6d6189d101f218b6309411f5a0444f574e4752440120d0a294"
    "d7d659edef4154255b4336701a2e03aad9ffa15fd45971ad12985f13c6c012000018000b0002010000170000002300"
    "00ff010001000001000101",
    "160302005e0200005a03021690bb0b70156d3d8d45c8fb4d970a3893d6d7240407bf3c444f574e475244002065d197"
    "c25d4d4a522952c96217f9a7577b7a5cbc9546b507af3acc0c11766b2100160000120017000000230000ff01000100"
    "0001000101",
    "160303007a0200007603036e9c0012862b208a80635a0a47c13356610be0e20d09c57591e733c62eaa3f62208693a0"
    "adbac7d4e1eefb0815222f3c495663707d8a97a4b1becbd8e5f2ff0c19130200002e00330024001d002050ee57eeba"
    "51201f1b7cc42ecc86695f7dbe22df33db3813d74e2e7a6eb07074002b00020304",
    "160303007a020000760303d9d9a5472ef040f242e79bf09deef801bfb29d34dc12b7bfe4ddc9821ccbbc56209ba8b5"
    "c2cfdce9f603101d2a3744515e6b7885929facb9c6d3e0edfa0714212e130300002e00330024001d0020ad8546916c"
    "2757266d3208907f9286e377d7538ecef9809016c907ee6595f258002b00020304",
    "15030300020228",
    "160303007a0200007603039f16507bd1845cb7c7e781ad380d21da91546f323461640bc2e8d7fe4a58e09a20c5d2df"
    "ecf90613202d3a4754616e7b8895a2afbcc9d6e3f0fd0a1724313e4b58130100002e00330024001d00203163cd9282"
    "03f4e1c601e025fd040216bba36e0b772799279dd0866deb3ed756002b00020304",
};
static const char gnutls_jarm[] = "05d02d20d21d20d05c42d43d00041dd8c182c7bfc632e4947dfddf37171897";

static const struct {
	size_t len;
	const char *sha256;
} ref_hellos[10] = {
    {430, "5b6b6fdf54d356060b7306ceb922cb9aaec8927043e4d6e165f9a9f1350e8efd"},
    {430, "f8574ddecf05266be3cbe2c741c7a6df521edf9037516707a555dbafd172ea19"},
    {351, "194ed9e44fb383a5287cb74b07437946a79307e81f11fe493d3e272087f71f5e"},
    {337, "6a95c68658ceea0ea0812942b738afff0e3763a47a03e62ac2ce19099add8943"},
    {418, "defef03f7b06dc4f5f5106c47b70424c70d130a2e39cc22269291b213c17854a"},
    {419, "c58f1c2184f91e0a35044c6d95173d9c5dbe2de5ef35e09434f6ee9664c4b670"},
    {432, "823c6616ed6de4421f3555b8194f3d5fdefe017a96fc3cb39848bfa14aa6e224"},
    {432, "23005ad06a086bde8455d6c080c645d4c1ed895db9fd3342a1750cc219ba3f6f"},
    {422, "7b1878ed09f64792af660cd9a2bb42282a43a37f541051eb8df8923bdff194ce"},
    {445, "5b45637aff0d80c33eadf7b3f52eeffd6c733fc3adaebb0893cd959d1f90ae3b"},
};

static const char ref_hello0_ab[] =
    "160303019c010001980303010e1b2835424f5c697683909daab7c4d1deebf805121f2c394653606d7a87942008"
    "15222f3c495663707d8a97a4b1becbd8e5f2ff0c192633404d5a6774818e9b008a001600330067c09ec0a2009e"
    "0039006bc09fc0a3009f004500be008800c4009ac008c009c023c0acc0aec02bc00ac024c0adc0afc02cc072c0"
    "73cca913021301cc14c007c012c013c027c02fc014c028c030c060c061c076c077cca8130513041303cc13c011"
    "000a002f003cc09cc0a0009c0035003dc09dc0a1009d004100ba008400c0000700040005010000c50000000800"
    "06000003612e62001700000001000101ff01000100000a000a0008001d001700180019000b0002010000230000"
    "0010003c003a0268710368326302683206737064792f3306737064792f3206737064792f3108687474702f312e"
    "3108687474702f312e3008687474702f302e39000d001400120403080404010503080505010806060102010033"
    "00260024001d00200f1c293643505d6a7784919eabb8c5d2dfecf90613202d3a4754616e7b8895a2002d000201"
    "01002b000706030303020301";

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (; hex[0] && hex[1] && n < cap; hex += 2) {
		int hi = hex[0] <= '9' ? hex[0] - '0' : hex[0] - 'a' + 10;
		int lo = hex[1] <= '9' ? hex[1] - '0' : hex[1] - 'a' + 10;

		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}

/* jarm.py's randomness, made deterministic the same way in gen.py: call n
 * of os.urandom(k) gives (n*7 + j*13 + 1) & 0xff, call g of random.choice
 * picks GREASE value (g*5 + 3) % 16; hello i starts at n = 3i. */
static void det_rand(unsigned i, struct probe_jarm_rand *r)
{
	for (int j = 0; j < 32; j++) {
		r->random[j] = (uint8_t)((3 * i) * 7 + j * 13 + 1);
		r->session_id[j] = (uint8_t)((3 * i + 1) * 7 + j * 13 + 1);
		r->share[j] = (uint8_t)((3 * i + 2) * 7 + j * 13 + 1);
	}
	for (int g = 0; g < 4; g++)
		r->grease[g] = (uint8_t)((g * 5 + 3) % 16);
}

static void test_hellos_byte_exact(void)
{
	uint8_t b[PROBE_JARM_HELLO_MAX], want[PROBE_JARM_HELLO_MAX];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	struct probe_jarm_rand r;
	char hex[65];

	for (unsigned i = 0; i < PROBE_JARM_HELLOS; i++) {
		int n;

		det_rand(i, &r);
		n = probe_jarm_build(i, "mail.example.org", &r, b, sizeof(b));
		CHECK_INT_EQ(n, ref_hellos[i].len);
		EVP_Digest(b, n > 0 ? (size_t)n : 0, md, &mdlen, EVP_sha256(), NULL);
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		if (strcmp(hex, ref_hellos[i].sha256) != 0)
			fprintf(stderr, "  hello %u differs from jarm.py's\n", i);
		CHECK_STR_EQ(hex, ref_hellos[i].sha256);
	}
	det_rand(0, &r);
	size_t wn = unhex(ref_hello0_ab, want, sizeof(want));
	int n = probe_jarm_build(0, "a.b", &r, b, sizeof(b));
	CHECK_INT_EQ(n, wn);
	CHECK(n > 0 && memcmp(b, want, wn) == 0);
	CHECK_INT_EQ(probe_jarm_build(10, "a.b", &r, b, sizeof(b)), -EINVAL);
	CHECK_INT_EQ(probe_jarm_build(0, "a.b", &r, b, 100), -ENOBUFS);
}

static void check_server(const char *name, const char *const answers[10], const char *raw,
			 const char *jarm)
{
	static char got[PROBE_JARM_RAW_MAX];
	char hash[PROBE_JARM_HASH_LEN + 1];
	size_t o = 0;

	for (int i = 0; i < PROBE_JARM_HELLOS; i++) {
		uint8_t b[2048];
		struct probe_hello_result res;
		size_t n = unhex(answers[i], b, sizeof(b));
		enum probe_hello_kind k = probe_hello_parse(b, n, &res);

		if (i)
			got[o++] = ',';
		o += probe_jarm_part(k == PROBE_HELLO_NEED_MORE ? NULL : &res, got + o,
				     sizeof(got) - o);
	}
	got[o] = '\0';
	CHECK_STR_EQ(got, raw);
	CHECK_INT_EQ(probe_jarm_hash(got, hash), 0);
	CHECK_STR_EQ(hash, jarm);
	if (strcmp(hash, jarm) != 0)
		fprintf(stderr, "  in %s\n", name);
}

static void test_fingerprints(void)
{
	char hash[PROBE_JARM_HASH_LEN + 1];

	check_server("openssl tls1.3", ossl13_answers, ossl13_raw, ossl13_jarm);
	check_server("openssl tls1.2", ossl12_answers, ossl12_raw, ossl12_jarm);
	check_server("gnutls", gnutls_answers, gnutls_raw, gnutls_jarm);
	/* nothing answered: 62 zeros, as jarm.py */
	CHECK_INT_EQ(probe_jarm_hash("|||,|||,|||,|||,|||,|||,|||,|||,|||,|||", hash), 0);
	CHECK_STR_EQ(hash, "00000000000000000000000000000000000000000000000000000000000000");
	/* malformed raw strings are refused */
	CHECK_INT_EQ(probe_jarm_hash("|||,|||", hash), -EINVAL);
	CHECK_INT_EQ(probe_jarm_hash("||,|||,|||,|||,|||,|||,|||,|||,|||,|||", hash), -EINVAL);
}

/* The per-target accumulator the grabber uses: the same fingerprint as the
 * raw string; a timeout voids it (62 zeros); no hello after the tenth. */
static void test_run(void)
{
	static struct probe_jarm_run run;
	char hash[PROBE_JARM_HASH_LEN + 1];

	probe_jarm_run_init(&run);
	for (int i = 0; i < PROBE_JARM_HELLOS; i++) {
		uint8_t b[2048];
		struct probe_hello_result res;
		size_t n = unhex(gnutls_answers[i], b, sizeof(b));
		enum probe_hello_kind k = probe_hello_parse(b, n, &res);

		CHECK(probe_jarm_run_more(&run));
		probe_jarm_run_answer(&run, k == PROBE_HELLO_NEED_MORE ? NULL : &res, false);
	}
	CHECK(!probe_jarm_run_more(&run));
	CHECK_STR_EQ(run.raw, gnutls_raw);
	probe_jarm_run_finish(&run, hash);
	CHECK_STR_EQ(hash, gnutls_jarm);
	probe_jarm_run_answer(&run, NULL, false); /* an eleventh answer changes nothing */
	CHECK_STR_EQ(run.raw, gnutls_raw);

	probe_jarm_run_init(&run);
	probe_jarm_run_answer(&run, NULL, false);
	probe_jarm_run_answer(&run, NULL, true);
	CHECK(!probe_jarm_run_more(&run));
	probe_jarm_run_finish(&run, hash);
	CHECK_STR_EQ(hash, "00000000000000000000000000000000000000000000000000000000000000");
}

/* Every JARM hello fits PROBE_JARM_HELLO_MAX with a 253-byte name (a
 * legal target name): 640 bytes was too short from a 212-byte name on
 * (found with fuzz_hello_build's check of the plain builder). */
static void test_long_name(void)
{
	struct probe_jarm_rand r;
	uint8_t b[PROBE_JARM_HELLO_MAX];
	char name[254];

	memset(&r, 0x11, sizeof(r));
	memset(name, 'm', 253);
	name[253] = '\0';
	for (unsigned i = 0; i < PROBE_JARM_HELLOS; i++) {
		int n = probe_jarm_build(i, name, &r, b, sizeof(b));
		if (n <= 0)
			TEST_FAIL_AT("hello %u: %d", i, n);
		test_checks++;
	}
}

int main(void)
{
	RUN(test_hellos_byte_exact);
	RUN(test_fingerprints);
	RUN(test_run);
	RUN(test_long_name);
	return test_summary();
}
