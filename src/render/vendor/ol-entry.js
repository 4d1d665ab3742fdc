// The part of OpenLayers that report.html uses, bundled by esbuild into the
// global `ol` (see package.json). Rebuild: npm ci && npm run build.
export { default as Map } from 'ol/Map.js';
export { default as View } from 'ol/View.js';
export { default as Feature } from 'ol/Feature.js';
export { default as Projection } from 'ol/proj/Projection.js';
export { default as VectorSource } from 'ol/source/Vector.js';
export { default as VectorLayer } from 'ol/layer/Vector.js';
export { default as VectorImageLayer } from 'ol/layer/VectorImage.js';
export { default as Polygon } from 'ol/geom/Polygon.js';
export { default as MultiPolygon } from 'ol/geom/MultiPolygon.js';
export { default as MultiLineString } from 'ol/geom/MultiLineString.js';
export { default as Point } from 'ol/geom/Point.js';
export { default as Style } from 'ol/style/Style.js';
export { default as Fill } from 'ol/style/Fill.js';
export { default as Stroke } from 'ol/style/Stroke.js';
export { default as Text } from 'ol/style/Text.js';
export { defaults as defaultControls } from 'ol/control/defaults.js';
export { default as ScaleLine } from 'ol/control/ScaleLine.js';
export { defaults as defaultInteractions } from 'ol/interaction/defaults.js';
export { default as DragPan } from 'ol/interaction/DragPan.js';
export { default as DragBox } from 'ol/interaction/DragBox.js';
export { default as DragZoom } from 'ol/interaction/DragZoom.js';
export { platformModifierKeyOnly, shiftKeyOnly } from 'ol/events/condition.js';
export { getCenter, boundingExtent, extend as extendExtent, createEmpty as emptyExtent } from 'ol/extent.js';
