// JPEG 2000 lossless encode/decode of single grayscale frames with OpenJPEG (DCMTK 3.6.7 has no J2K codec).
#include <openjpeg-2.5/openjpeg.h>  // not ITK-5.2/openjpeg.h (ITK bundles its own, mangled)

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "Internal.h"

namespace imaging::detail {
namespace {

struct MemoryStream {
  std::vector<std::uint8_t>* out = nullptr;  // writing
  const std::uint8_t* in = nullptr;          // reading
  std::size_t size = 0;
  std::size_t pos = 0;
};

OPJ_SIZE_T writeFn(void* buffer, OPJ_SIZE_T bytes, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (s->pos + bytes > s->out->size()) s->out->resize(s->pos + bytes);
  std::memcpy(s->out->data() + s->pos, buffer, bytes);
  s->pos += bytes;
  return bytes;
}
OPJ_OFF_T writeSkipFn(OPJ_OFF_T bytes, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (bytes < 0 && static_cast<std::size_t>(-bytes) > s->pos) return -1;
  s->pos = static_cast<std::size_t>(static_cast<OPJ_OFF_T>(s->pos) + bytes);
  if (s->pos > s->out->size()) s->out->resize(s->pos);
  return bytes;
}
OPJ_BOOL writeSeekFn(OPJ_OFF_T pos, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (pos < 0) return OPJ_FALSE;
  s->pos = static_cast<std::size_t>(pos);
  if (s->pos > s->out->size()) s->out->resize(s->pos);
  return OPJ_TRUE;
}
OPJ_SIZE_T readFn(void* buffer, OPJ_SIZE_T bytes, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (s->pos >= s->size) return static_cast<OPJ_SIZE_T>(-1);
  const std::size_t n = std::min<std::size_t>(bytes, s->size - s->pos);
  std::memcpy(buffer, s->in + s->pos, n);
  s->pos += n;
  return n;
}
OPJ_OFF_T readSkipFn(OPJ_OFF_T bytes, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  const OPJ_OFF_T target = static_cast<OPJ_OFF_T>(s->pos) + bytes;
  if (target < 0) return -1;
  s->pos = std::min<std::size_t>(static_cast<std::size_t>(target), s->size);
  return bytes;
}
OPJ_BOOL readSeekFn(OPJ_OFF_T pos, void* user) {
  auto* s = static_cast<MemoryStream*>(user);
  if (pos < 0 || static_cast<std::size_t>(pos) > s->size) return OPJ_FALSE;
  s->pos = static_cast<std::size_t>(pos);
  return OPJ_TRUE;
}

void errorFn(const char* msg, void* user) {
  auto* text = static_cast<std::string*>(user);
  if (text->empty()) {
    *text = msg;
    while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  }
}
void quietFn(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

}  // namespace

std::vector<std::uint8_t> encodeJ2kLossless(const std::uint16_t* pixels, int columns, int rows,
                                            int bitsStored, bool isSigned) {
  opj_cparameters_t params;
  opj_set_default_encoder_parameters(&params);
  params.tcp_numlayers = 1;
  params.tcp_rates[0] = 0;  // lossless
  params.cp_disto_alloc = 1;
  params.irreversible = 0;
  int res = 1;
  while (res < 6 && (columns >> res) >= 1 && (rows >> res) >= 1) ++res;
  params.numresolution = res;

  opj_image_cmptparm_t comp;
  std::memset(&comp, 0, sizeof(comp));
  comp.dx = comp.dy = 1;
  comp.w = static_cast<OPJ_UINT32>(columns);
  comp.h = static_cast<OPJ_UINT32>(rows);
  comp.prec = static_cast<OPJ_UINT32>(bitsStored);
  comp.sgnd = isSigned ? 1 : 0;
  std::unique_ptr<opj_image_t, ImageDeleter> image(opj_image_create(1, &comp, OPJ_CLRSPC_GRAY));
  if (!image) throw std::runtime_error("OpenJPEG could not allocate the image");
  image->x0 = image->y0 = 0;
  image->x1 = static_cast<OPJ_UINT32>(columns);
  image->y1 = static_cast<OPJ_UINT32>(rows);
  const std::size_t n = static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows);
  OPJ_INT32* dst = image->comps[0].data;
  const std::uint16_t mask = static_cast<std::uint16_t>(bitsStored >= 16 ? 0xFFFF : (1u << bitsStored) - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t v = pixels[i] & mask;
    if (isSigned && bitsStored < 32 && (v >> (bitsStored - 1)) & 1)
      dst[i] = static_cast<OPJ_INT32>(v) - (1 << bitsStored);
    else
      dst[i] = v;
  }

  std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_compress(OPJ_CODEC_J2K));
  std::string error;
  opj_set_error_handler(codec.get(), errorFn, &error);
  opj_set_warning_handler(codec.get(), quietFn, nullptr);
  opj_set_info_handler(codec.get(), quietFn, nullptr);
  if (!opj_setup_encoder(codec.get(), &params, image.get()))
    throw std::runtime_error("OpenJPEG encoder setup failed: " + error);

  std::vector<std::uint8_t> out;
  out.reserve(n);
  MemoryStream ms;
  ms.out = &out;
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(1 << 16, OPJ_FALSE));
  opj_stream_set_write_function(stream.get(), writeFn);
  opj_stream_set_skip_function(stream.get(), writeSkipFn);
  opj_stream_set_seek_function(stream.get(), writeSeekFn);
  opj_stream_set_user_data(stream.get(), &ms, nullptr);
  if (!opj_start_compress(codec.get(), image.get(), stream.get()) || !opj_encode(codec.get(), stream.get()) ||
      !opj_end_compress(codec.get(), stream.get()))
    throw std::runtime_error("OpenJPEG encoding failed: " + error);
  stream.reset();
  return out;
}

void decodeJ2k(const std::uint8_t* data, std::size_t size, int columns, int rows, std::uint16_t* out) {
  if (size < 12) throw std::runtime_error("JPEG 2000 fragment too short");
  // JP2 file format starts with a signature box; a raw codestream starts with SOC (FF 4F).
  const bool jp2 = size >= 12 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0x0C;
  std::unique_ptr<opj_codec_t, CodecDeleter> codec(
      opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  std::string error;
  opj_set_error_handler(codec.get(), errorFn, &error);
  opj_set_warning_handler(codec.get(), quietFn, nullptr);
  opj_set_info_handler(codec.get(), quietFn, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) throw std::runtime_error("OpenJPEG decoder setup failed");
  MemoryStream ms;
  ms.in = data;
  ms.size = size;
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(1 << 16, OPJ_TRUE));
  opj_stream_set_read_function(stream.get(), readFn);
  opj_stream_set_skip_function(stream.get(), readSkipFn);
  opj_stream_set_seek_function(stream.get(), readSeekFn);
  opj_stream_set_user_data(stream.get(), &ms, nullptr);
  opj_stream_set_user_data_length(stream.get(), size);
  opj_image_t* raw = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw))
    throw std::runtime_error("JPEG 2000 header unreadable: " + error);
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw);
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get()))
    throw std::runtime_error("JPEG 2000 decoding failed: " +
                             (error.empty() ? std::string("corrupt codestream") : error));
  if (image->numcomps < 1 || !image->comps[0].data)
    throw std::runtime_error("JPEG 2000 image has no component");
  const auto& c = image->comps[0];
  if (image->numcomps != 1)
    throw std::runtime_error("JPEG 2000 image has " + std::to_string(image->numcomps) +
                             " components, expected 1 (grayscale)");
  if (static_cast<int>(c.w) != columns || static_cast<int>(c.h) != rows)
    throw std::runtime_error("JPEG 2000 image is " + std::to_string(c.w) + "x" + std::to_string(c.h) +
                             " but the header says " + std::to_string(columns) + "x" + std::to_string(rows));
  const std::size_t n = static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint16_t>(c.data[i]);
}

}  // namespace imaging::detail
