#include "gui/SeriesBrowser.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QHeaderView>
#include <QIcon>
#include <QLabel>
#include <QPixmap>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "imaging/Thumbnail.h"

namespace {
enum Column { Number, Description, Images, Thickness, Analysis, ColumnCount };
constexpr int kUidRole = Qt::UserRole + 1;
constexpr int kThumbnailSize = 64;
// Lung window: shows both the lungs and the body outline.
constexpr double kThumbnailWindow = 1500, kThumbnailLevel = -600;
}  // namespace

SeriesBrowser::SeriesBrowser(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  header_ = new QLabel(tr("No study"), this);
  header_->setWordWrap(true);
  tree_ = new QTreeWidget(this);
  tree_->setObjectName("seriesTree");
  tree_->setColumnCount(ColumnCount);
  tree_->setHeaderLabels({tr("#"), tr("Description"), tr("Images"), tr("Thickness"), tr("Analysis")});
  tree_->setRootIsDecorated(false);
  tree_->setAlternatingRowColors(true);
  tree_->setIconSize(QSize(kThumbnailSize, kThumbnailSize));
  tree_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
  tree_->header()->setStretchLastSection(true);
  layout->addWidget(header_);
  layout->addWidget(tree_);
  pool_.setMaxThreadCount(1);  // ~5 ms per slice; keep a core for the viewer
  connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
    if (item) emit seriesActivated(item->data(0, kUidRole).toString());
  });
}

SeriesBrowser::~SeriesBrowser() {
  ++generation_;
  pool_.clear();
  pool_.waitForDone();  // the tasks post to this object: none may outlive it
}

void SeriesBrowser::waitForThumbnails() {
  pool_.waitForDone();
  QCoreApplication::sendPostedEvents(this);
}

void SeriesBrowser::clear() {
  ++generation_;
  pool_.clear();
  thumbnailsShown_ = thumbnailsFailed_ = 0;
  series_.clear();
  tree_->clear();
  header_->setText(tr("No study"));
}

void SeriesBrowser::setSeries(const QString& studyPath, std::vector<workflow::SeriesSummary> series) {
  series_ = std::move(series);
  ++generation_;
  pool_.clear();  // queued thumbnails of the previous study
  thumbnailsShown_ = thumbnailsFailed_ = 0;
  tree_->clear();
  // Patient, study date and description of the (first) study, then how many series it holds.
  QString who = QFileInfo(studyPath).fileName();
  if (!series_.empty()) {
    const auto& f = series_.front();
    QString date = QString::fromStdString(f.studyDate);
    if (date.size() == 8) date = date.left(4) + "-" + date.mid(4, 2) + "-" + date.right(2);
    who = QStringLiteral("%1 (%2)\n%3 %4")
              .arg(QString::fromStdString(f.patientName).replace('^', ' '), QString::fromStdString(f.patientId),
                   date, QString::fromStdString(f.studyDescription))
              .trimmed();
  }
  header_->setText(tr("%1\n%n series (double-click to show one)", "", static_cast<int>(series_.size())).arg(who));
  for (const auto& s : series_) {
    auto* item = new QTreeWidgetItem(tree_);
    item->setData(0, kUidRole, QString::fromStdString(s.seriesInstanceUid));
    item->setText(Number, QString::number(s.seriesNumber));
    item->setText(Description, QStringLiteral("%1 %2").arg(QString::fromStdString(s.modality),
                                                           QString::fromStdString(s.description)));
    item->setText(Images, QString::number(s.images));
    item->setText(Thickness, s.sliceThicknessMm > 0
                                 ? QStringLiteral("%1 mm").arg(s.sliceThicknessMm, 0, 'g', 3)
                                 : QStringLiteral("-"));
    const QString reasons = QString::fromStdString(s.reasons);
    item->setText(Analysis, s.selected   ? tr("selected for analysis: %1").arg(reasons)
                            : s.eligible ? tr("eligible, not first choice: %1").arg(reasons)
                                         : tr("excluded: %1").arg(reasons));
    item->setToolTip(Analysis, item->text(Analysis));
    item->setToolTip(Description, QString::fromStdString(s.seriesInstanceUid));
    if (!s.eligible) item->setForeground(Analysis, QBrush(Qt::darkRed));
    const QString uid = QString::fromStdString(s.seriesInstanceUid);
    if (s.middleFile.empty()) {
      item->setToolTip(Number, tr("No thumbnail: the series has no image file"));
      ++thumbnailsFailed_;
      continue;
    }
    item->setToolTip(Number, tr("Rendering thumbnail..."));
    const int generation = generation_;
    const std::string file = s.middleFile;
    pool_.start([this, generation, uid, file] {
      QImage image;
      QString error;
      try {
        const auto t = imaging::renderSliceThumbnail(file, kThumbnailSize, kThumbnailWindow, kThumbnailLevel);
        image = QImage(t.grey.data(), t.width, t.height, t.width, QImage::Format_Grayscale8).copy();
      } catch (const std::exception& e) {
        error = QString::fromUtf8(e.what());
      }
      // Queued: runs on the GUI thread; the destructor waits for this task, so `this` is alive here.
      QMetaObject::invokeMethod(
          this, [this, generation, uid, image, error] { thumbnailReady(generation, uid, image, error); },
          Qt::QueuedConnection);
    });
  }
}

void SeriesBrowser::thumbnailReady(int generation, const QString& uid, const QImage& image,
                                   const QString& error) {
  if (generation != generation_) return;  // a thumbnail of a study no longer listed
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = tree_->topLevelItem(i);
    if (item->data(0, kUidRole).toString() != uid) continue;
    if (image.isNull()) {
      item->setIcon(Number, QIcon());
      item->setToolTip(Number, tr("No thumbnail: %1").arg(error));
      ++thumbnailsFailed_;
    } else {
      item->setIcon(Number, QIcon(QPixmap::fromImage(image)));
      item->setToolTip(Number, tr("Middle image of the series (lung window)"));
      ++thumbnailsShown_;
    }
    return;
  }
}

void SeriesBrowser::setShownSeries(const QString& uid) {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = tree_->topLevelItem(i);
    const bool shown = item->data(0, kUidRole).toString() == uid;
    QFont f = item->font(0);
    f.setBold(shown);
    for (int c = 0; c < ColumnCount; ++c) item->setFont(c, f);
    if (shown) tree_->setCurrentItem(item);
  }
}
