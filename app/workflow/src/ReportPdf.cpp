// The human-readable report: QPdfWriter + QPainter (Qt6::Gui only, no widgets), headless through the
// "offscreen" platform when the process has no QGuiApplication yet. Two passes: the first lays out
// without drawing to count pages ("Page i of n"), the second draws.
#include <QBuffer>
#include <QColor>
#include <QFont>
#include <QFontDatabase>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QString>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <map>

#include "imaging/KeyImage.h"
#include "workflow/Report.h"

namespace workflow {
namespace {

// ---- strings -------------------------------------------------------------------------------------
struct Labels {
  QString title, subtitle, ruo, disclaimer, page, of, patient, patientName, patientId, sexAge, studyDate,
      studyDescription, series, studyUid, seriesUid, indication, noIndication, result, category, management,
      probability, brock, brockNot, decision, notReviewed, findings, noFindings, lobe, image, type, longAxis,
      shortAxis, meanDiameter, meanHu, volume, cam, keyImages, keyCaption, narrative, routing, imageShare,
      noteShare, experts, noteEvidence, recordFactors, factor, value, confidence, evidence, model, modelName,
      version, sha, explanation, warnings, accepted, edited, rejected, by, at, comment, plain, overlayNote,
      aiBeside;
};

Labels english() {
  Labels l;
  l.title = "Lung Nodule AI Report";
  l.subtitle = "Low-dose chest CT \u00b7 multimodal AI analysis (CT + clinical note)";
  l.ruo = "RESEARCH USE ONLY \u2014 NOT FOR CLINICAL USE";
  l.disclaimer = "Research use only \u2014 not for clinical use. The AI result supports, and never replaces, the radiologist's reading.";
  l.page = "Page";
  l.of = "of";
  l.patient = "Patient and study";
  l.patientName = "Patient name";
  l.patientId = "Patient ID";
  l.sexAge = "Sex / age";
  l.studyDate = "Study date";
  l.studyDescription = "Study";
  l.series = "Series";
  l.studyUid = "Study UID";
  l.seriesUid = "Series UID";
  l.indication = "Indication (clinical note)";
  l.noIndication = "No clinical note available; image-only analysis.";
  l.result = "Result";
  l.category = "Lung-RADS v2022";
  l.management = "Management";
  l.probability = "AI malignancy probability";
  l.brock = "Brock (PanCan) model";
  l.brockNot = "Brock model not computed";
  l.decision = "Radiologist decision";
  l.notReviewed = "Not yet reviewed";
  l.findings = "Findings";
  l.noFindings = "No measurable nodule found.";
  l.lobe = "Lobe";
  l.image = "Image (slice)";
  l.type = "Type";
  l.longAxis = "Long mm";
  l.shortAxis = "Short mm";
  l.meanDiameter = "Mean mm";
  l.meanHu = "Mean HU";
  l.volume = "Vol ml";
  l.cam = "AI peak";
  l.keyImages = "Key images";
  l.keyCaption = "lung window W1500/L-600";
  l.narrative = "AI narrative (every statement cites its source value)";
  l.routing = "Modality share and routing";
  l.imageShare = "CT image";
  l.noteShare = "Clinical note";
  l.experts = "Top experts";
  l.noteEvidence = "Note phrases that moved the score";
  l.recordFactors = "Record factors read from the note";
  l.factor = "Factor";
  l.value = "Value";
  l.confidence = "Confidence";
  l.evidence = "Evidence phrase";
  l.model = "Model";
  l.modelName = "Name";
  l.version = "Version";
  l.sha = "Weights SHA-256";
  l.explanation = "Explanation";
  l.warnings = "Warnings";
  l.accepted = "ACCEPTED";
  l.edited = "EDITED";
  l.rejected = "REJECTED";
  l.by = "by";
  l.at = "at";
  l.comment = "Comment";
  l.plain = "without overlay";
  l.overlayNote = "heatmap overlay (Grad-CAM, 0\u20131)";
  l.aiBeside = "The AI probability is reported beside, not instead of, the Lung-RADS category.";
  return l;
}

Labels chinese() {
  Labels l = english();
  l.title = QString::fromUtf8("肺结节 AI 报告");
  l.subtitle = QString::fromUtf8("低剂量胸部 CT · 多模态 AI 分析（CT + 临床记录）");
  l.ruo = QString::fromUtf8("仅供科研使用 — 不得用于临床");
  l.disclaimer = QString::fromUtf8("仅供科研使用，不得用于临床。AI 结果仅辅助而不能替代放射科医师的诊断。");
  l.page = QString::fromUtf8("第");
  l.of = QString::fromUtf8("页，共");
  l.patient = QString::fromUtf8("患者与检查");
  l.patientName = QString::fromUtf8("姓名");
  l.patientId = QString::fromUtf8("患者 ID");
  l.sexAge = QString::fromUtf8("性别 / 年龄");
  l.studyDate = QString::fromUtf8("检查日期");
  l.studyDescription = QString::fromUtf8("检查");
  l.series = QString::fromUtf8("序列");
  l.studyUid = QString::fromUtf8("检查 UID");
  l.seriesUid = QString::fromUtf8("序列 UID");
  l.indication = QString::fromUtf8("检查指征（临床记录）");
  l.noIndication = QString::fromUtf8("无临床记录；仅基于影像分析。");
  l.result = QString::fromUtf8("结果");
  l.category = QString::fromUtf8("Lung-RADS v2022 分类");
  l.management = QString::fromUtf8("处理建议");
  l.probability = QString::fromUtf8("AI 恶性概率");
  l.brock = QString::fromUtf8("Brock (PanCan) 模型");
  l.brockNot = QString::fromUtf8("未计算 Brock 模型");
  l.decision = QString::fromUtf8("放射科医师决定");
  l.notReviewed = QString::fromUtf8("尚未审核");
  l.findings = QString::fromUtf8("发现");
  l.noFindings = QString::fromUtf8("未发现可测量的结节。");
  l.lobe = QString::fromUtf8("肺叶");
  l.image = QString::fromUtf8("图像（层）");
  l.type = QString::fromUtf8("类型");
  l.longAxis = QString::fromUtf8("长径 mm");
  l.shortAxis = QString::fromUtf8("短径 mm");
  l.meanDiameter = QString::fromUtf8("平均 mm");
  l.meanHu = QString::fromUtf8("平均 HU");
  l.volume = QString::fromUtf8("体积 ml");
  l.cam = QString::fromUtf8("AI 峰值");
  l.keyImages = QString::fromUtf8("关键图像");
  l.keyCaption = QString::fromUtf8("肺窗 W1500/L-600");
  l.narrative = QString::fromUtf8("AI 描述（每句均注明所依据的数值）");
  l.routing = QString::fromUtf8("模态贡献与专家路由");
  l.imageShare = QString::fromUtf8("CT 影像");
  l.noteShare = QString::fromUtf8("临床记录");
  l.experts = QString::fromUtf8("主要专家");
  l.noteEvidence = QString::fromUtf8("影响评分的记录短语");
  l.recordFactors = QString::fromUtf8("从记录中读取的因素");
  l.factor = QString::fromUtf8("因素");
  l.value = QString::fromUtf8("值");
  l.confidence = QString::fromUtf8("置信度");
  l.evidence = QString::fromUtf8("依据短语");
  l.model = QString::fromUtf8("模型");
  l.modelName = QString::fromUtf8("名称");
  l.version = QString::fromUtf8("版本");
  l.sha = QString::fromUtf8("权重 SHA-256");
  l.explanation = QString::fromUtf8("解释方法");
  l.warnings = QString::fromUtf8("警告");
  l.accepted = QString::fromUtf8("已接受");
  l.edited = QString::fromUtf8("已修改");
  l.rejected = QString::fromUtf8("已拒绝");
  l.by = QString::fromUtf8("审核人");
  l.at = QString::fromUtf8("时间");
  l.comment = QString::fromUtf8("意见");
  l.plain = QString::fromUtf8("无叠加");
  l.overlayNote = QString::fromUtf8("热图叠加（Grad-CAM，0–1）");
  l.aiBeside = QString::fromUtf8("AI 概率与 Lung-RADS 分类并列报告，不能替代分类。");
  return l;
}

QString q(const std::string& s) { return QString::fromUtf8(s.c_str(), static_cast<int>(s.size())); }
QString num(double v, int d) { return QString::number(v, 'f', d); }

const QColor kNavy(0x1f, 0x3a, 0x5f), kGrey(0x5f, 0x67, 0x70), kLight(0xf2, 0xf4, 0xf7), kRule(0xc9, 0xd0, 0xd8),
    kRed(0xc6, 0x28, 0x28);

QColor categoryColour(const std::string& c) {
  if (c == "1" || c == "2") return QColor(0x2e, 0x7d, 0x32);
  if (c == "3") return QColor(0xf9, 0xa8, 0x25);
  if (c == "4A") return QColor(0xef, 0x6c, 0x00);
  if (c == "4B" || c == "4X") return kRed;
  return kGrey;
}

void ensureGuiApplication() {
  if (QCoreApplication::instance()) {
    if (!qobject_cast<QGuiApplication*>(QCoreApplication::instance()))
      throw ReportError("PDF report: the process has a QCoreApplication; a QGuiApplication is needed for fonts");
    return;
  }
  // Headless: the process keeps this application until it exits (Qt allows one per process).
  qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char arg0[] = "medseek-report";
  static char* argv[] = {arg0, nullptr};
  static QGuiApplication* app = new QGuiApplication(argc, argv);
  (void)app;
}

/// Latin text (and digits) in a Latin font, CJK through the fallback: mixed Latin/digit runs shaped with a
/// CJK font lose their digits in the PDF text layer (pdftotext), so CJK is never the primary family.
QStringList pickFamilies(const std::string& language) {
  const QStringList families = QFontDatabase::families();
  auto find = [&](const QStringList& wanted) -> QString {
    for (const auto& w : wanted)
      for (const auto& f : families)
        if (f.compare(w, Qt::CaseInsensitive) == 0) return f;
    return {};
  };
  QStringList out;
  const QString latin = find({"Noto Sans", "DejaVu Sans", "Liberation Sans"});
  if (!latin.isEmpty()) out << latin;
  if (language == "zh") {
    const QString cjk = find({"Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP"});
    if (cjk.isEmpty()) throw ReportError("PDF report: no CJK font found (install fonts-noto-cjk)");
    out << cjk;
  }
  if (out.isEmpty() && !families.isEmpty()) out << families.front();
  return out;
}

struct KeyImage {
  QImage image;
  QString caption;
};

// ---- the document --------------------------------------------------------------------------------
class Doc {
 public:
  Doc(QPdfWriter* writer, bool dry, const Labels& labels, const QStringList& family, double dpi, QSizeF pagePx,
      int totalPages, QString footerId)
      : writer_(writer), dry_(dry), L(labels), family_(family), dpi_(dpi), page_(pagePx), total_(totalPages),
        footerId_(std::move(footerId)) {
    margin_ = mm(14);
    contentW_ = page_.width() - 2 * margin_;
    if (!dry_) painter_.begin(writer_);
    startPage();
  }
  ~Doc() {
    if (painter_.isActive()) painter_.end();
  }
  int finish() {
    drawFooter();
    if (painter_.isActive()) painter_.end();
    return pageNo_;
  }

  double mm(double v) const { return v * dpi_ / 25.4; }
  QFont font(double pt, bool bold = false, bool mono = false) const {
    QFont f;
    if (mono)
      f.setFamilies(QStringList{"DejaVu Sans Mono"} + family_);
    else
      f.setFamilies(family_);
    f.setPixelSize(std::max(1, static_cast<int>(std::lround(pt / 72.0 * dpi_))));
    f.setBold(bold);
    return f;
  }
  /// The largest font of at most `pt` (not below 60 % of it) in which `t` fits on one line of `w`.
  QFont fittingFont(const QString& t, double pt, bool bold, double w) const {
    QFont f = font(pt, bold);
    for (double size = pt; size > 0.6 * pt; size -= 0.5) {
      f = font(size, bold);
      if (QFontMetricsF(f).horizontalAdvance(t) <= w) break;
    }
    return f;
  }
  double x0() const { return margin_; }
  double width() const { return contentW_; }
  double& y() { return y_; }
  bool dry() const { return dry_; }
  QPainter& p() { return painter_; }

  void ensure(double h) {
    if (y_ + h > bottom()) newPage();
  }
  void newPage() {
    drawFooter();
    if (!dry_) writer_->newPage();
    ++pageNo_;
    startPage();
  }

  double textHeight(const QString& t, const QFont& f, double w, int flags = Qt::TextWordWrap) const {
    QFontMetricsF fm(f);
    return fm.boundingRect(QRectF(0, 0, w, 1e7), flags | Qt::AlignLeft | Qt::AlignTop, t).height();
  }
  void text(const QRectF& r, const QString& t, const QFont& f, const QColor& c = Qt::black,
            int flags = Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap) {
    if (dry_) return;
    painter_.setFont(f);
    painter_.setPen(c);
    painter_.drawText(r, flags, t);
  }
  void fill(const QRectF& r, const QColor& c, double radius = 0) {
    if (dry_) return;
    painter_.setPen(Qt::NoPen);
    painter_.setBrush(c);
    if (radius > 0)
      painter_.drawRoundedRect(r, radius, radius);
    else
      painter_.drawRect(r);
    painter_.setBrush(Qt::NoBrush);
  }
  void frame(const QRectF& r, const QColor& c, double widthPx, double radius = 0) {
    if (dry_) return;
    painter_.setPen(QPen(c, widthPx));
    painter_.setBrush(Qt::NoBrush);
    if (radius > 0)
      painter_.drawRoundedRect(r, radius, radius);
    else
      painter_.drawRect(r);
  }
  void line(QPointF a, QPointF b, const QColor& c, double w) {
    if (dry_) return;
    painter_.setPen(QPen(c, w));
    painter_.drawLine(a, b);
  }
  void image(const QRectF& r, const QImage& img) {
    if (dry_) return;
    painter_.drawImage(r, img);
  }

  void section(const QString& title) {
    const QFont f = font(11.5, true);
    const double h = textHeight(title, f, contentW_);
    ensure(h + mm(14));
    y_ += mm(3);
    text(QRectF(margin_, y_, contentW_, h), title, f, kNavy);
    y_ += h + mm(0.8);
    line({margin_, y_}, {margin_ + contentW_, y_}, kNavy, mm(0.35));
    y_ += mm(2);
  }
  void paragraph(const QString& t, double pt = 9.5, const QColor& c = Qt::black, double indent = 0) {
    const QFont f = font(pt);
    const double h = textHeight(t, f, contentW_ - indent);
    ensure(h);
    text(QRectF(margin_ + indent, y_, contentW_ - indent, h), t, f, c);
    y_ += h + mm(1.2);
  }

 private:
  double bottom() const { return page_.height() - mm(20); }
  void startPage() {
    // Header band.
    const double bandH = mm(20);
    fill(QRectF(0, 0, page_.width(), bandH), kNavy);
    text(QRectF(margin_, mm(3.5), contentW_ * 0.6, mm(9)), L.title, font(17, true), Qt::white,
         Qt::AlignLeft | Qt::AlignVCenter);
    text(QRectF(margin_, mm(12), contentW_ * 0.7, mm(5)), L.subtitle, font(8.5), QColor(0xd6, 0xe2, 0xf0),
         Qt::AlignLeft | Qt::AlignVCenter);
    const QFont rf = font(8.5, true);
    const double rw = QFontMetricsF(rf).horizontalAdvance(L.ruo) + mm(6);
    const QRectF badge(margin_ + contentW_ - rw, mm(6.5), rw, mm(7));
    fill(badge, kRed, mm(1.2));
    text(badge, L.ruo, rf, Qt::white, Qt::AlignCenter);
    y_ = bandH + mm(5);
  }
  void drawFooter() {
    const double top = page_.height() - mm(15);
    line({margin_, top}, {margin_ + contentW_, top}, kRule, mm(0.3));
    const QFont f = font(6.8);
    text(QRectF(margin_, top + mm(1.5), contentW_ * 0.86, mm(4)), L.disclaimer, f, kRed,
         Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap);
    const QString pageText = L.page == "Page" ? QString("Page %1 of %2").arg(pageNo_).arg(total_)
                                              : L.page + QString::number(pageNo_) + L.of + QString::number(total_) +
                                                    QString::fromUtf8("页");
    text(QRectF(margin_ + contentW_ * 0.86, top + mm(1.5), contentW_ * 0.14, mm(4)), pageText, font(8, true), kGrey,
         Qt::AlignRight | Qt::AlignTop);
    text(QRectF(margin_, top + mm(6.5), contentW_, mm(4)), footerId_, font(6), kGrey, Qt::AlignLeft | Qt::AlignTop);
  }

  QPdfWriter* writer_;
  bool dry_;
  const Labels& L;
  QStringList family_;
  double dpi_;
  QSizeF page_;
  int total_;
  QString footerId_;
  QPainter painter_;
  double margin_ = 0, contentW_ = 0, y_ = 0;
  int pageNo_ = 1;
};

QString sexAge(const LoadedStudy& s) {
  QString sex = q(s.patientSex.empty() ? "-" : s.patientSex);
  QString age = q(s.patientAge);
  while (age.startsWith('0')) age.remove(0, 1);
  return age.isEmpty() ? sex : sex + " / " + age;
}

QString dicomDate(const std::string& d) {
  if (d.size() != 8) return q(d.empty() ? "-" : d);
  return q(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2));
}

QString personName(const std::string& pn) {
  QString n = q(pn);
  n.replace('^', ' ');
  return n.simplified().isEmpty() ? "-" : n.simplified();
}

int sliceOfFinding(const explain::Finding& f, const imaging::VolumeGeometry& g) {
  const int k = static_cast<int>(std::lround(g.ijkFromLps(f.centerLps)[2]));
  return std::clamp(k, 0, std::max(0, g.size[2] - 1));
}

std::vector<KeyImage> makeKeyImages(const ReportInput& in, const ReportOptions& o, const Labels& L,
                                    const std::function<int(int)>& imageNumber) {
  const auto& ct = *in.study->volume;
  const auto& e = *in.explanation;
  const auto& g = ct.geometry();
  const bool overlay = e.heatmap.values.size() == g.voxelCount();
  const int wanted = std::clamp(o.maxKeyImages, 2, 4);
  std::vector<KeyImage> out;
  auto render = [&](int k, bool withOverlay, const QString& caption) {
    imaging::KeyImageOptions opt;
    opt.maxSidePixels = 640;
    if (withOverlay && overlay) opt.overlay = &e.heatmap.values;
    for (const auto& f : e.findings)
      if (std::abs(sliceOfFinding(f, g) - k) <= 1)
        opt.circles.push_back({f.centerLps, std::max(4.0, std::max(f.longAxisMm, f.diameterMm) / 2 + 3)});
    const auto img = imaging::renderAxial(ct, k, opt);
    QImage qi(img.bgr.data(), img.width, img.height, img.width * 3, QImage::Format_BGR888);
    out.push_back({qi.copy(), caption});
  };
  for (std::size_t i = 0; i < e.findings.size() && static_cast<int>(out.size()) < wanted; ++i) {
    const int k = sliceOfFinding(e.findings[i], g);
    render(k, true,
           QString("#%1 \u00b7 %2 %3 \u00b7 %4 \u00b7 %5")
               .arg(i + 1)
               .arg(L.image)
               .arg(imageNumber(k))
               .arg(q(e.findings[i].lobe))
               .arg(overlay ? L.overlayNote : L.keyCaption));
  }
  if (out.empty()) {
    int k = g.size[2] / 2;
    if (overlay) {
      const auto it = std::max_element(e.heatmap.values.begin(), e.heatmap.values.end());
      k = static_cast<int>((it - e.heatmap.values.begin()) / (static_cast<std::size_t>(g.size[0]) * g.size[1]));
    }
    render(k, true, QString("%1 %2 \u00b7 %3").arg(L.image).arg(imageNumber(k)).arg(overlay ? L.overlayNote : L.keyCaption));
  }
  if (out.size() < 2) {
    // The culprit slice once more without overlay, so the reader sees the anatomy under the heatmap.
    const int k = e.findings.empty() ? g.size[2] / 2 : sliceOfFinding(e.findings.front(), g);
    imaging::KeyImageOptions opt;
    opt.maxSidePixels = 640;
    const auto img = imaging::renderAxial(ct, k, opt);
    QImage qi(img.bgr.data(), img.width, img.height, img.width * 3, QImage::Format_BGR888);
    out.push_back({qi.copy(), QString("%1 %2 \u00b7 %3 \u00b7 %4").arg(L.image).arg(imageNumber(k)).arg(L.keyCaption).arg(L.plain)});
  }
  return out;
}

int layout(Doc& d, const ReportInput& in, const ReportOptions& o, const Labels& L, const std::vector<KeyImage>& keys,
           const std::function<int(int)>& imageNumber) {
  const LoadedStudy& s = *in.study;
  const explain::Explanation& e = *in.explanation;
  const auto& g = s.volume->geometry();

  // ---- patient / study panel
  {
    const QFont lf = d.font(8, false), vf = d.font(9.5, true), uf = d.font(6.3, false, true);
    const double rowH = d.mm(5.2);
    const double panelH = rowH * 4 + d.mm(4);
    d.ensure(panelH);
    const QRectF panel(d.x0(), d.y(), d.width(), panelH);
    d.fill(panel, kLight, d.mm(1.5));
    const double colW = d.width() / 2;
    const double labelW = d.mm(27);
    struct Row {
      QString label, value;
      bool mono;
    };
    const Row left[] = {{L.patientName, personName(s.patientName), false},
                        {L.patientId, q(s.patientId), false},
                        {L.sexAge, sexAge(s), false},
                        {L.studyDate, dicomDate(s.studyDate), false}};
    const Row right[] = {{L.studyDescription, q(s.studyDescription.empty() ? "-" : s.studyDescription), false},
                         {L.series, QString("%1 \u00b7 %2").arg(s.seriesNumber).arg(q(s.seriesDescription)), false},
                         {L.studyUid, q(s.studyInstanceUid), true},
                         {L.seriesUid, q(s.seriesInstanceUid), true}};
    for (int r = 0; r < 4; ++r) {
      const double yy = panel.top() + d.mm(2) + r * rowH;
      d.text(QRectF(d.x0() + d.mm(3), yy, labelW, rowH), left[r].label, lf, kGrey, Qt::AlignLeft | Qt::AlignVCenter);
      d.text(QRectF(d.x0() + d.mm(3) + labelW, yy, colW - labelW - d.mm(4), rowH), left[r].value, vf, Qt::black,
             Qt::AlignLeft | Qt::AlignVCenter);
      d.text(QRectF(d.x0() + colW, yy, d.mm(22), rowH), right[r].label, lf, kGrey, Qt::AlignLeft | Qt::AlignVCenter);
      d.text(QRectF(d.x0() + colW + d.mm(22), yy, colW - d.mm(24), rowH), right[r].value, right[r].mono ? uf : vf,
             Qt::black, Qt::AlignLeft | Qt::AlignVCenter);
    }
    d.y() += panelH + d.mm(1);
  }

  // ---- indication
  d.section(L.indication);
  {
    QString note = q(in.noteText).simplified();
    if (note.size() > 700) note = note.left(700) + QString::fromUtf8("\u2026");
    d.paragraph(note.isEmpty() ? L.noIndication : note, 9, note.isEmpty() ? kGrey : Qt::black);
  }

  // ---- result tiles
  d.section(L.result);
  {
    const std::string cat = effectiveCategory(e, o);
    const QString mgmt = q(effectiveManagement(e, o));
    const double gap = d.mm(3);
    const double tileW = (d.width() - 2 * gap) / 3;
    const QFont small = d.font(8), body = d.font(8.5);
    const double mgmtH = d.textHeight(mgmt, body, tileW - d.mm(6));
    const double tileH = std::max(d.mm(34), d.mm(21) + mgmtH + d.mm(3));
    d.ensure(tileH);
    const double top = d.y();
    // Tile 1: Lung-RADS
    QRectF t1(d.x0(), top, tileW, tileH);
    d.fill(t1, kLight, d.mm(1.5));
    d.fill(QRectF(t1.left(), t1.top(), d.mm(1.6), tileH), categoryColour(cat));
    d.text(QRectF(t1.left() + d.mm(4), top + d.mm(2), tileW - d.mm(6), d.mm(5)), L.category, small, kGrey);
    const QString catText = QString("%1 %2").arg(QString::fromUtf8("Lung-RADS")).arg(q(cat.empty() ? "-" : cat));
    d.text(QRectF(t1.left() + d.mm(4), top + d.mm(6), tileW - d.mm(6), d.mm(12)), catText,
           d.fittingFont(catText, 20, true, tileW - d.mm(7)), categoryColour(cat), Qt::AlignLeft | Qt::AlignVCenter);
    d.text(QRectF(t1.left() + d.mm(4), top + d.mm(19), tileW - d.mm(6), mgmtH + d.mm(2)), mgmt, body);
    // Tile 2: probability with Brock
    QRectF t2(d.x0() + tileW + gap, top, tileW, tileH);
    d.fill(t2, kLight, d.mm(1.5));
    d.text(QRectF(t2.left() + d.mm(4), top + d.mm(2), tileW - d.mm(6), d.mm(5)), L.probability, small, kGrey);
    d.text(QRectF(t2.left() + d.mm(4), top + d.mm(6), tileW - d.mm(6), d.mm(12)), num(e.probability * 100, 1) + " %",
           d.font(20, true), kNavy, Qt::AlignLeft | Qt::AlignVCenter);
    const QRectF bar(t2.left() + d.mm(4), top + d.mm(19.5), tileW - d.mm(8), d.mm(2.4));
    d.fill(bar, QColor(0xdd, 0xe3, 0xea), d.mm(1));
    d.fill(QRectF(bar.left(), bar.top(), bar.width() * std::clamp(e.probability, 0.0, 1.0), bar.height()), kNavy,
           d.mm(1));
    if (e.brock.computed) {
      const double bx = bar.left() + bar.width() * std::clamp(e.brock.probability, 0.0, 1.0);
      d.fill(QRectF(bx - d.mm(0.4), bar.top() - d.mm(1), d.mm(0.8), bar.height() + d.mm(2)), QColor(0xef, 0x6c, 0x00));
    }
    const QString brock = e.brock.computed ? QString("%1: %2 % (%3)")
                                                 .arg(L.brock)
                                                 .arg(num(e.brock.probability * 100, 1))
                                                 .arg(o.language == "zh" ? QString::fromUtf8("橙色标记") : "orange mark")
                                           : L.brockNot + (e.brock.reason.empty() ? "" : ": " + q(e.brock.reason));
    d.text(QRectF(t2.left() + d.mm(4), top + d.mm(23.5), tileW - d.mm(6), tileH - d.mm(24)), brock, body);
    // Tile 3: decision
    QRectF t3(d.x0() + 2 * (tileW + gap), top, tileW, tileH);
    d.fill(t3, kLight, d.mm(1.5));
    d.text(QRectF(t3.left() + d.mm(4), top + d.mm(2), tileW - d.mm(6), d.mm(5)), L.decision, small, kGrey);
    if (o.decision) {
      const auto v = o.decision->verdict;
      const QString word = v == Verdict::Accepted ? L.accepted : v == Verdict::Edited ? L.edited : L.rejected;
      const QColor c = v == Verdict::Accepted ? QColor(0x2e, 0x7d, 0x32) : v == Verdict::Edited ? QColor(0xef, 0x6c, 0x00) : kRed;
      d.text(QRectF(t3.left() + d.mm(4), top + d.mm(6), tileW - d.mm(6), d.mm(12)), word, d.font(17, true), c,
             Qt::AlignLeft | Qt::AlignVCenter);
      QString who = L.by + " " + q(o.decision->readerName.empty() ? "-" : o.decision->readerName);
      if (!o.decision->time.empty()) who += "\n" + L.at + " " + q(o.decision->time);
      if (!o.decision->comment.empty()) who += "\n" + q(o.decision->comment);
      d.text(QRectF(t3.left() + d.mm(4), top + d.mm(19), tileW - d.mm(6), tileH - d.mm(20)), who, body);
    } else {
      d.text(QRectF(t3.left() + d.mm(4), top + d.mm(6), tileW - d.mm(6), d.mm(12)), L.notReviewed, d.font(13, true),
             kGrey, Qt::AlignLeft | Qt::AlignVCenter);
    }
    d.y() = top + tileH + d.mm(1.5);
    d.paragraph(L.aiBeside, 7.5, kGrey);
  }

  // ---- findings table
  d.section(L.findings);
  if (e.findings.empty()) {
    d.paragraph(L.noFindings);
  } else {
    const QStringList head{"#", L.lobe, L.image, L.type, L.longAxis, L.shortAxis, L.meanDiameter, L.meanHu, L.volume, L.cam};
    const double w[] = {0.04, 0.07, 0.15, 0.13, 0.105, 0.105, 0.105, 0.095, 0.09, 0.11};
    const QFont hf = d.font(7.5, true), cf = d.font(9);
    const double rowH = d.mm(6);
    const int rows = std::min<int>(static_cast<int>(e.findings.size()), 8);
    d.ensure(rowH * (rows + 1));
    auto drawRow = [&](const QStringList& cells, const QFont& f, const QColor& bg, const QColor& fg) {
      d.fill(QRectF(d.x0(), d.y(), d.width(), rowH), bg);
      double x = d.x0();
      for (int c = 0; c < cells.size(); ++c) {
        const double cw = d.width() * w[c];
        d.text(QRectF(x + d.mm(1.5), d.y(), cw - d.mm(2), rowH), cells[c], f, fg,
               (c >= 4 ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
        x += cw;
      }
      d.y() += rowH;
    };
    drawRow(head, hf, kNavy, Qt::white);
    for (int i = 0; i < rows; ++i) {
      const auto& f = e.findings[static_cast<std::size_t>(i)];
      const int k = sliceOfFinding(f, g);
      QString type = q(f.type);
      type.replace('_', '-');
      const QString image = QString("%1 (%2\u2013%3)").arg(imageNumber(k)).arg(imageNumber(std::max(f.sliceFirst, 0))).arg(imageNumber(std::max(f.sliceLast, 0)));
      const bool m = f.measured && f.diameterMm > 0;
      if (!m) type = o.language == "zh" ? QString::fromUtf8("未测量") : QString("not measured");
      drawRow({QString::number(i + 1), q(f.lobe), image, type, m ? num(f.longAxisMm, 1) : "-",
               m ? num(f.shortAxisMm, 1) : "-", m ? num(f.diameterMm, 1) : "-", m ? num(f.meanHu, 0) : "-",
               m ? num(f.volumeMl, 2) : "-", num(f.camPeak, 2)},
              cf, i % 2 ? kLight : QColor(Qt::white), Qt::black);
    }
    d.line({d.x0(), d.y()}, {d.x0() + d.width(), d.y()}, kRule, d.mm(0.3));
    d.y() += d.mm(1);
    if (!e.lungRadsBasis.empty()) d.paragraph(q(e.lungRadsBasis), 8, kGrey);
  }

  // ---- key images
  d.section(L.keyImages);
  {
    const int n = static_cast<int>(keys.size());
    const double gap = d.mm(3);
    const double side = std::min((d.width() - gap * (n - 1)) / n, d.mm(72));
    const double left = d.x0() + (d.width() - (side * n + gap * (n - 1))) / 2;
    const double capH = d.mm(8);
    d.ensure(side + capH);
    const double top = d.y();
    for (int i = 0; i < n; ++i) {
      const double x = left + i * (side + gap);
      const QImage& img = keys[static_cast<std::size_t>(i)].image;
      const double aspect = img.height() > 0 ? double(img.width()) / img.height() : 1.0;
      const double iw = aspect >= 1 ? side : side * aspect, ih = aspect >= 1 ? side / aspect : side;
      d.fill(QRectF(x, top, side, side), Qt::black);
      d.image(QRectF(x + (side - iw) / 2, top + (side - ih) / 2, iw, ih), img);
      d.text(QRectF(x, top + side + d.mm(1), side, capH), keys[static_cast<std::size_t>(i)].caption, d.font(7), kGrey);
    }
    d.y() = top + side + capH + d.mm(1);
  }

  // ---- narrative
  d.section(L.narrative);
  if (e.narrative.empty()) d.paragraph("-");
  for (const auto& sentence : e.narrative) d.paragraph(QString::fromUtf8("\u2022  ") + q(sentence.text), 9.5);

  // ---- routing
  d.section(L.routing);
  {
    const double barH = d.mm(6);
    d.ensure(barH + d.mm(12));
    const double total = e.routing.imageShare + e.routing.textShare;
    const double imgShare = total > 0 ? e.routing.imageShare / total : 0.5;
    const QRectF bar(d.x0(), d.y(), d.width(), barH);
    d.fill(QRectF(bar.left(), bar.top(), bar.width() * imgShare, barH), kNavy);
    d.fill(QRectF(bar.left() + bar.width() * imgShare, bar.top(), bar.width() * (1 - imgShare), barH),
           QColor(0x4f, 0x9d, 0x9a));
    const QFont bf = d.font(8.5, true);
    d.text(QRectF(bar.left() + d.mm(2), bar.top(), bar.width() * 0.6, barH),
           QString("%1 %2 %").arg(L.imageShare).arg(num(e.routing.imageShare * 100, 1)), bf, Qt::white,
           Qt::AlignLeft | Qt::AlignVCenter);
    d.text(QRectF(bar.left() + bar.width() * 0.4, bar.top(), bar.width() * 0.6 - d.mm(2), barH),
           QString("%1 %2 %").arg(L.noteShare).arg(num(e.routing.textShare * 100, 1)), bf, Qt::white,
           Qt::AlignRight | Qt::AlignVCenter);
    d.y() += barH + d.mm(2);
    QString experts = L.experts + ": ";
    for (std::size_t i = 0; i < e.routing.experts.size(); ++i) {
      const auto& x = e.routing.experts[i];
      if (i) experts += ";  ";
      experts += QString("#%1 (%2) %3").arg(x.expert).arg(num(x.weight, 2)).arg(q(x.specialty));
    }
    d.paragraph(experts, 8.5);
    if (!e.routing.statisticsSource.empty()) d.paragraph(q(e.routing.statisticsSource), 7, kGrey);
  }

  // ---- note evidence
  if (!e.note.phrases.empty()) {
    d.section(L.noteEvidence);
    std::vector<const explain::NoteSpan*> spans;
    for (const auto& sp : e.note.phrases) spans.push_back(&sp);
    std::sort(spans.begin(), spans.end(), [](auto* a, auto* b) { return std::abs(a->score) > std::abs(b->score); });
    for (std::size_t i = 0; i < std::min<std::size_t>(5, spans.size()); ++i) {
      const auto* sp = spans[i];
      d.paragraph(QString("%1%2  \u201c%3\u201d%4")
                      .arg(sp->score >= 0 ? "+" : "\u2212")
                      .arg(num(std::abs(sp->score), 3))
                      .arg(q(sp->text).simplified())
                      .arg(sp->negated ? (o.language == "zh" ? QString::fromUtf8("（否定）") : " (negated)") : ""),
                  8.5, sp->score >= 0 ? kRed : QColor(0x2e, 0x7d, 0x32), d.mm(2));
    }
    d.paragraph(q(e.note.method), 7, kGrey);
  }

  // ---- record factors
  if (!e.recordFactors.empty()) {
    d.section(L.recordFactors);
    const double rowH = d.mm(5.5);
    d.ensure(rowH * (e.recordFactors.size() + 1));
    const double w[] = {0.18, 0.16, 0.14, 0.52};
    auto row = [&](const QStringList& cells, const QFont& f, const QColor& bg, const QColor& fg) {
      d.fill(QRectF(d.x0(), d.y(), d.width(), rowH), bg);
      double x = d.x0();
      for (int c = 0; c < cells.size(); ++c) {
        d.text(QRectF(x + d.mm(1.5), d.y(), d.width() * w[c] - d.mm(2), rowH), cells[c], f, fg,
               Qt::AlignLeft | Qt::AlignVCenter);
        x += d.width() * w[c];
      }
      d.y() += rowH;
    };
    row({L.factor, L.value, L.confidence, L.evidence}, d.font(8, true), kNavy, Qt::white);
    int i = 0;
    for (const auto& rf : e.recordFactors) {
      QString ev = q(rf.evidencePhrase).simplified();
      if (ev.size() > 70) ev = ev.left(70) + QString::fromUtf8("\u2026");
      row({q(rf.name), q(rf.value), num(rf.probability, 2), ev}, d.font(8.5), i++ % 2 ? kLight : QColor(Qt::white),
          Qt::black);
    }
    d.y() += d.mm(1);
  }

  // ---- model
  d.section(L.model);
  {
    const std::string version = !o.modelVersion.empty() ? o.modelVersion : in.modelVersion;
    const std::string sha = in.modelSha256.empty() ? e.modelSha256 : in.modelSha256;
    d.paragraph(L.modelName + ": " + q(o.modelName) + "    " + L.version + ": " + q(version.empty() ? "-" : version), 9);
    const QFont mf = d.font(8, false, true);
    const QString shaText = L.sha + ": " + q(sha.empty() ? "-" : sha);
    const double h = d.textHeight(shaText, mf, d.width(), Qt::TextWrapAnywhere);
    d.ensure(h);
    d.text(QRectF(d.x0(), d.y(), d.width(), h), shaText, mf, Qt::black, Qt::AlignLeft | Qt::AlignTop | Qt::TextWrapAnywhere);
    d.y() += h + d.mm(1);
    d.paragraph(L.explanation + ": " + q(e.heatmap.method.empty() ? "grad-cam" : e.heatmap.method) + ", " +
                    q(e.note.method.empty() ? "-" : e.note.method),
                8.5, kGrey);
  }
  if (!e.warnings.empty() || !s.warnings.empty()) {
    d.section(L.warnings);
    for (const auto& w : e.warnings) d.paragraph(QString::fromUtf8("\u2022  ") + q(w), 8, kGrey);
    for (const auto& w : s.warnings) d.paragraph(QString::fromUtf8("\u2022  ") + q(w), 8, kGrey);
  }
  return d.finish();
}

}  // namespace

void writeReportPdf(const ReportInput& in, const ReportOptions& o, const std::string& pdfFile) {
  if (!in.study || !in.explanation || !in.study->volume) throw ReportError("PDF report: no analysed study given");
  ensureGuiApplication();
  const Labels L = o.language == "zh" ? chinese() : english();
  const QStringList family = pickFamilies(o.language);
  auto imageNumber = [&](int k) {
    if (k >= 0 && k < static_cast<int>(in.sliceInstanceNumbers.size()) && in.sliceInstanceNumbers[k] > 0)
      return in.sliceInstanceNumbers[static_cast<std::size_t>(k)];
    return k + 1;
  };
  const std::vector<KeyImage> keys = makeKeyImages(in, o, L, imageNumber);
  const double dpi = 300;
  const QPageSize size(o.paper == "letter" ? QPageSize::Letter : QPageSize::A4);
  const QSizeF pagePx(size.sizePoints().width() / 72.0 * dpi, size.sizePoints().height() / 72.0 * dpi);
  const QString footerId = QString("Study %1 \u00b7 Series %2 \u00b7 MedSeek %3")
                               .arg(q(in.study->studyInstanceUid))
                               .arg(q(in.study->seriesInstanceUid))
                               .arg(q(o.modelVersion.empty() ? in.modelVersion : o.modelVersion));
  int pages = 0;
  {
    Doc dry(nullptr, true, L, family, dpi, pagePx, 0, footerId);
    pages = layout(dry, in, o, L, keys, imageNumber);
  }
  QPdfWriter writer(QString::fromStdString(pdfFile));
  writer.setResolution(static_cast<int>(dpi));
  writer.setPageLayout(QPageLayout(size, QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
  writer.setTitle(L.title);
  writer.setCreator("MedSeek");
  {
    Doc doc(&writer, false, L, family, dpi, pagePx, pages, footerId);
    layout(doc, in, o, L, keys, imageNumber);
  }
  FILE* f = std::fopen(pdfFile.c_str(), "rb");
  if (!f) throw ReportError("PDF report: cannot write " + pdfFile);
  std::fclose(f);
}

}  // namespace workflow
