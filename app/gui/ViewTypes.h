#pragma once
/// ViewTypes: small value types shared by the viewer widgets (SliceView, VolumeView, ViewerPanel).
#include <QMetaType>
#include <array>
#include <cmath>
#include <limits>

/// Which anatomical plane a SliceView shows; the value is the voxel axis normal to the plane.
enum class SliceOrientation { Sagittal = 0, Coronal = 1, Axial = 2 };

/// What a left drag does in the 2-D views.
enum class ToolMode { Navigate, Ruler, Roi };

/// Colour map of the overlay layer.
enum class OverlayColormap { Jet, Hot };

/// How the overlay layer (e.g. a Grad-CAM heatmap on the CT grid) is shown.
/// Values below `threshold` are transparent; the colour map spans [threshold, rangeMax] (rangeMax NaN:
/// the largest overlay value).
struct OverlayStyle {
  OverlayColormap colormap = OverlayColormap::Jet;
  double opacity = 0.5;  ///< 0..1
  double threshold = 0.2;
  double rangeMax = std::numeric_limits<double>::quiet_NaN();
  bool visible = true;
};

/// Window/level in HU.
struct WindowLevel {
  double window = 1500;
  double level = -600;
};

using VoxelIndex = std::array<int, 3>;
Q_DECLARE_METATYPE(VoxelIndex)
